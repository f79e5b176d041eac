"""What the tests of Snapline in Simplified Chinese share: the browser's header, an account
that chose Chinese, and the English words a page says to people outside what they wrote."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import text

from service import i18n

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
ENGLISH = {"Accept-Language": "en"}
# Latin words a Chinese page may say: the product's name, the zone of exact times, file
# formats and their units, "ID" (as Chinese writes it: 请求 ID), and each language's name
# in itself (the language choices).
SAME_IN_CHINESE = {"Snapline", "UTC", "JPEG", "PNG", "WebP", "GIF", "MB", "zip", "ID"} | {
    word for name in i18n.LANGUAGES.values() for word in re.findall(r"[A-Za-z]+", name)
}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Attributes people read or hear, as tests/test_untranslated.py reads them.
READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}
# Elements whose text is no words for people: code, and identifiers shown as code.
_NOT_SAID = {"script", "style", "code", "textarea"}


class _Said(HTMLParser):
    """A page's text and read attributes, outside scripts, styles, code, form fields' text
    and what people wrote (the templates isolate it with ``dir="auto"``)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = dict(attrs).get("dir") == "auto"
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self._open.append((tag, tag in _NOT_SAID or written))
        if not (self._hidden() or written):
            self.parts += [value for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.parts.append(data)


def english_words(page: str, *user_content: str) -> list[str]:
    """The Latin-script words ``page`` says to people (its text and the attributes read
    aloud) outside what people wrote: ``dir="auto"`` elements, @names, addresses and
    ``user_content``."""
    said = _Said()
    said.feed(page)
    said.close()
    words = " ".join(said.parts)
    words = re.sub(r"\S+@\S+|@\w+|#\w+", " ", words)
    for content in sorted(user_content, key=len, reverse=True):
        words = words.replace(content, " ")
    return [word for word in LATIN_WORD.findall(words) if word not in SAME_IN_CHINESE]


async def reads_chinese(db, *accounts) -> None:
    """The accounts chose Simplified Chinese (``users.language``, as the switcher stores it)."""
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET language = 'zh-Hans' WHERE id = ANY(:ids)"),
            {"ids": [account.id for account in accounts]},
        )
