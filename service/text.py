"""Rules for user-supplied text shared by pages, API and domain functions: the one check
every form and API field goes through (``text_error``)."""

from __future__ import annotations

import re
import unicodedata

from service.i18n import gettext as _

# Never in user text: C0 controls but tab (PostgreSQL rejects NUL outright; the rest are
# invisible or terminal escapes), DEL, C1 controls (U+0085 is a line break to some readers,
# U+009B starts a terminal escape sequence), and lone surrogates, which are no character at
# all and cannot be encoded as UTF-8. Line breaks (CR, LF, and Unicode's line and paragraph
# separators) only where the field is multi-line.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029]")

# Names (display names and usernames) are shown next to other people's text and must look
# like what they are. Format characters (category Cf) are invisible yet change what is
# shown: bidi overrides, embeddings and isolates (U+202A-202E, U+2066-2069) reorder the
# text after them, so "\u202egnp.exe" reads "exe.png"; zero-width characters (U+200B-200F,
# U+2060-2064, U+FEFF), the soft hyphen and the Mongolian vowel separator make two names
# that look the same differ. The Hangul fillers are letters that render as nothing.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

# What trim() takes off the ends: Unicode's white space, but never a control character that
# str.strip() would also remove (U+001C-001F, U+0085): those must reach text_error and be
# refused, not vanish in silence.
# (Every white space character of Unicode lies below U+3001.)
_TRIMMED = "".join(
    char
    for char in map(chr, range(0x3001))
    if char.isspace() and (unicodedata.category(char) != "Cc" or char in "\t\n\r")
)


def trim(value: str) -> str:
    """``value`` without white space at either end; control characters are left for
    text_error to refuse."""
    return value.strip(_TRIMMED)


def _forbidden_in_name(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in _INVISIBLE_LETTERS


def text_error(value: str, *, multiline: bool = False, name: bool = False) -> str | None:
    """Why ``value`` cannot be accepted as user text, or None. ``multiline`` allows line
    breaks (bodies, comments, bios, alt text); ``name`` also refuses invisible format
    characters (display names, usernames). Post bodies and comments keep bidi characters
    (right-to-left writers use them); pages isolate each such text instead (dir="auto")."""
    found = _CONTROLS.search(value)
    if found is None and not multiline:
        found = _LINE_BREAKS.search(value)
    if found is not None:
        return _("Contains a control character (%(code_point)s), not allowed here.") % {
            "code_point": _code_point(found.group())
        }
    if name:
        for char in value:
            if _forbidden_in_name(char):
                return _(
                    "Contains an invisible formatting character (%(code_point)s),"
                    " not allowed in names."
                ) % {"code_point": _code_point(char)}
    return None


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"
