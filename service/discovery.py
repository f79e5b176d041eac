"""Mentions and hashtags in user text: finding them, normalising tags, and writing text
with them linked (docs/discovery.md).

One tokenizer serves every renderer (post cards, comments, the Mastodon API's HTML) and the
commands that store what a text mentions and tags, so what is linked is exactly what was
stored. Linking escapes first: every character of the text goes through ``html.escape``
and only the links' own markup is added around the escaped text, so user text can never
become markup.

The rules:

- A hashtag is ``#`` (or the full-width number sign U+FF03 of CJK keyboards, which NFKC
  makes ``#``) followed by letters, combining marks, numbers and underscores of any
  script: ``#咖啡``, ``#café`` composed or decomposed, ``#हिन्दी``. It starts with a
  letter, number or underscore, holds at least one character that is not a decimal
  digit (``#1`` is not a tag), and is at most TAG_MAX_CHARS characters once normalised:
  a longer run is plain text, never a cut tag. The ``#`` must begin the text or follow a
  character that is neither part of a word nor one of URL_PUNCTUATION, and never lie
  inside a URL (``page#section``, ``https://example.com/#/x``).
- A mention is ``@`` followed by a username as accounts have them (3 to 30 ASCII letters,
  digits, underscores), under the same rule for what comes before, and followed by
  something that cannot continue a name: so ``mail@example.com`` and ``@name@elsewhere``
  are not mentions.
- A tag's name is ``normalize_tag`` of what was written (NFKC, then case folding, then NFKC
  again, so the result is stable): ``#Café``, ``#café``, ``#CAFÉ`` and the full-width
  ``#ＣＡＦÉ`` are one tag. Its display form is the NFKC form of the first spelling seen.
  Case folding is Unicode's, not a locale's: ``İ`` (Turkish capital dotted I) folds to
  ``i`` plus a combining dot, so ``#İzmir`` and ``#izmir`` are two tags, and the
  dotless i (U+0131) stays itself.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from html import escape
from typing import NamedTuple

from service.i18n import gettext as _

# Longer than any real tag; keeps a tag's URL and its row small.
TAG_MAX_CHARS = 100
# More than this in one post is spam, and refused (domain.posts.body_error).
MAX_TAGS_PER_POST = 30
# Mentions in one post or comment: more are refused, as each may notify someone.
MAX_MENTIONS = 20

# Characters after which a "#" or "@" starts nothing: they join it to what comes before
# (an address, a query, an entity, another tag).
URL_PUNCTUATION = frozenset("&/#＃@.:=?-~+%\\")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_USERNAME = re.compile(r"[A-Za-z0-9_]{3,30}")
_STARTS = re.compile(r"[#＃@]")
_WORD_RUN = re.compile(r"\w+")


def normalize_tag(text: str) -> str:
    """The one form a tag is stored and looked up by: NFKC, Unicode case folding, NFKC
    again (folding can undo NFKC's composition)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def display_tag(text: str) -> str:
    """How a tag is shown when first seen: as written, in NFKC (one spelling for composed
    and decomposed accents, ASCII for full-width letters)."""
    return unicodedata.normalize("NFKC", text)


def _in_word(char: str) -> bool:
    """Whether a character continues a tag (and so cannot come right before one): what
    ``\\w`` matches (letters, numbers, underscore), or a combining mark."""
    return char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M"


def _run_end(text: str, start: int) -> int:
    """Where the run of tag characters from ``start`` ends: whole runs of ``\\w`` at C
    speed, one mark at a time between them."""
    end, length = start, len(text)
    while end < length:
        run = _WORD_RUN.match(text, end)
        if run is not None:
            end = run.end()
        elif unicodedata.category(text[end])[0] == "M":
            end += 1
        else:
            break
    return end


def _may_start_after(char: str | None) -> bool:
    return char is None or not (_in_word(char) or char in URL_PUNCTUATION)


class Span(NamedTuple):
    """A run of the text: ``kind`` "tag" (``value`` its normalised name), "mention"
    (``value`` the username as written) or "url" (``value`` the URL)."""

    start: int
    end: int
    kind: str
    value: str


def _tag_at(text: str, start: int) -> Span | None:
    end = _run_end(text, start + 1)
    name = _tag_name(text[start + 1 : end])
    return None if name is None else Span(start, end, "tag", name)


# Popular tags are written again and again: each spelling is checked and normalised once.
@functools.lru_cache(maxsize=8192)
def _tag_name(written: str) -> str | None:
    """The normalised name of a run of tag characters, or None when it is no tag."""
    if not written or unicodedata.category(written[0])[0] == "M":
        return None
    name, shown = normalize_tag(written), display_tag(written)
    if len(name) > TAG_MAX_CHARS or len(shown) > TAG_MAX_CHARS or name.isdecimal():
        return None
    # Normalising can bring in characters no tag holds (NFKC makes a vulgar fraction a
    # digit, a fraction slash and a digit): such a run is no tag, so that every name and
    # display form is itself one (a page's URL).
    if _run_end(name, 0) != len(name) or _run_end(shown, 0) != len(shown):
        return None
    return name


def _mention_at(text: str, start: int) -> Span | None:
    match = _USERNAME.match(text, start + 1)
    if match is None:
        return None
    end = match.end()
    if end < len(text) and (_in_word(text[end]) or text[end] == "@"):
        return None
    return Span(start, end, "mention", match.group())


# A post is read far more often than it is written: by everyone who follows its author, on
# every page and API answer that lists it, and it is never edited. What it links depends on
# its text alone, so a process reads each text once while it is being read and keeps the
# answer (bounded: the texts read most recently).
READ_TEXTS_KEPT = 4096


def spans(text: str) -> tuple[Span, ...]:
    """The URLs, tags and mentions of ``text``, in order, none overlapping."""
    if "#" not in text and "＃" not in text and "@" not in text and "://" not in text:
        return ()
    return _spans(text)


@functools.lru_cache(maxsize=READ_TEXTS_KEPT)
def _spans(text: str) -> tuple[Span, ...]:
    return tuple(_scan(text))


def _scan(text: str) -> Iterator[Span]:
    urls = [Span(m.start(), m.end(), "url", m.group()) for m in URL.finditer(text)]
    position = 0
    for url in [*urls, None]:
        until = url.start if url else len(text)
        for match in _STARTS.finditer(text, position, until):
            start = match.start()
            if start < position:
                continue  # inside the tag or mention just found
            if not _may_start_after(text[start - 1] if start else None):
                continue
            found = _mention_at(text, start) if text[start] == "@" else _tag_at(text, start)
            if found is not None and found.end <= until:
                yield found
                position = found.end
        if url is not None:
            yield url
            position = url.end


class Found(NamedTuple):
    """What a text tags and mentions, each once, in order of first appearance: tags as
    (name, display), mentions by username lowercased."""

    tags: tuple[tuple[str, str], ...]
    mentions: tuple[str, ...]


@functools.lru_cache(maxsize=READ_TEXTS_KEPT)
def find(text: str) -> Found:
    tags: dict[str, str] = {}
    mentions: dict[str, None] = {}
    for span in spans(text):
        if span.kind == "tag":
            tags.setdefault(span.value, display_tag(text[span.start + 1 : span.end]))
        elif span.kind == "mention":
            mentions.setdefault(span.value.lower(), None)
    return Found(tuple(tags.items()), tuple(mentions))


# (the escaped text as written, the tag's normalised name) -> a link
TagLink = Callable[[str, str], str]
# (the escaped text as written, the account's username) -> a link
MentionLink = Callable[[str, str], str]
# (the escaped URL) -> a link
UrlLink = Callable[[str], str]


def linkify(
    text: str,
    known: Mapping[str, str],
    tag_link: TagLink,
    mention_link: MentionLink,
    url_link: UrlLink | None = None,
) -> str:
    """``text`` escaped, with its tags and the mentions of ``known`` accounts (lowercased
    username -> username) linked; URLs too when ``url_link`` is given. A mention of a
    name not in ``known`` stays plain text."""
    parts: list[str] = []
    last = 0
    for span in spans(text):
        if span.kind == "url":
            if url_link is None:
                continue
            link = url_link(escape(span.value))
        elif span.kind == "tag":
            link = tag_link(escape(text[span.start : span.end]), span.value)
        else:
            username = known.get(span.value.lower())
            if username is None:
                continue
            link = mention_link(escape(text[span.start : span.end]), username)
        parts.append(escape(text[last : span.start]))
        parts.append(link)
        last = span.end
    if not parts:
        return escape(text)
    parts.append(escape(text[last:]))
    return "".join(parts)


def tag_error(text: str) -> str | None:
    """Why ``text`` cannot be a tag's name (in a URL: with or without its ``#``), or None."""
    written = text[1:] if text[:1] in ("#", "＃") else text
    found = _tag_at("#" + written, 0)
    if found is None or found.end != len(written) + 1:
        return _("Not a hashtag: letters, digits and underscores, at most 100 characters.")
    return None


# Characters of scripts written without spaces between words, as post search's SQL has them
# (migration 0028's CJK_CLASS): Hangul Jamo, 々, Hiragana, Katakana, Hangul compatibility
# Jamo, CJK ideographs and their extensions, Hangul syllables.
_CJK_RUN = re.compile(
    "[\u1100-\u11ff\u3005\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]+"
)


def highlight(snippet: str, query: str, start: str, end: str) -> str:
    """A search result's snippet as safe markup: its text escaped, with ``<mark>`` around
    what PostgreSQL's ts_headline put between the characters ``start`` and ``end`` (words
    of the search, stemmed), and around each occurrence of the search's runs of Chinese,
    Japanese or Korean characters (ts_headline cannot see a word inside such a run). Only
    the marks' own markup is added, never taken from the text."""
    text: list[str] = []
    marked: list[bool] = []
    inside = False
    for char in snippet:
        if char == start:
            inside = True
        elif char == end:
            inside = False
        else:
            text.append(char)
            marked.append(inside)
    plain = "".join(text)
    for run in _CJK_RUN.findall(unicodedata.normalize("NFKC", query)):
        found = plain.find(run)
        while found >= 0:
            marked[found : found + len(run)] = [True] * len(run)
            found = plain.find(run, found + len(run))
    parts: list[str] = []
    last = 0
    for index in range(1, len(plain) + 1):
        if index == len(plain) or marked[index] != marked[last]:
            piece = escape(plain[last:index])
            parts.append(f"<mark>{piece}</mark>" if marked[last] else piece)
            last = index
    return "".join(parts)
