"""The languages Snapline speaks: their message catalogues, which one is in use, and how a
list of preferred languages (an ``Accept-Language`` header) picks one (docs/translating.md).

Text is written in English in the code and the templates and marked with ``gettext`` (or
``_`` in templates); the language in use is a context variable, set for each request by
the web layer (web/language.py) and for each mail by whoever renders it, so one marked
string serves every language at once without passing the language around.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path

from babel import Locale
from babel.core import UnknownLocaleError, get_global
from babel.support import LazyProxy, NullTranslations, Translations

# The language the code and templates are written in: its text needs no catalogue.
SOURCE_LANGUAGE = "en"
# Every language with a catalogue, by its BCP 47 tag (as `<html lang>` and `Content-Language`
# say it), with its name in itself, as a language switcher shows it.
LANGUAGES: dict[str, str] = {"en": "English", "zh-Hans": "简体中文"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# At most this many entries of an Accept-Language header are read: a browser sends a few;
# a longer header is somebody's experiment, and its tail decides nothing.
MAX_PREFERENCES = 20

_current: ContextVar[str] = ContextVar("language", default=SOURCE_LANGUAGE)


def catalogue_name(language: str) -> str:
    """The folder of a language's catalogue under ``service/locale`` (gettext's spelling,
    ``zh_Hans`` for ``zh-Hans``)."""
    return language.replace("-", "_")


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (the source language's text is its own)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(LOCALE_DIR, [catalogue_name(language)], DOMAIN)


@functools.cache
def locale(language: str) -> Locale:
    """Babel's locale of ``language``, for dates, times and numbers."""
    return Locale.parse(catalogue_name(language))


def current() -> str:
    """The language in use."""
    return _current.get()


def use(language: str) -> None:
    """Use ``language`` from here on in this task (a request sets it once, at its start)."""
    _current.set(language)


@contextlib.contextmanager
def using(language: str) -> Iterator[None]:
    """Use ``language`` inside the block, such as for a mail to someone who reads another."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


def N_(message: str) -> str:  # gettext's name for it, which extraction knows
    """``message`` marked for the catalogue but not translated here: for text made where no
    language is in use (an executor's thread) and translated where it is shown."""
    return message


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_current.get()).upgettext(context, message)


def lazy_gettext(message: str) -> LazyProxy:
    """A message defined once (at import, in a table) and translated each time it is shown,
    into the language in use then."""
    return LazyProxy(gettext, message, enable_cache=False)


def _language_and_script(tag: str) -> tuple[str, str | None] | None:
    """The language of a BCP 47 tag and its script, told or likely (``zh-CN`` is written in
    Han Simplified, ``zh-TW`` in Han Traditional: Unicode's likely subtags); None for what
    is no language tag."""
    try:
        parsed = Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if parsed.script:
        return parsed.language, parsed.script
    likely = get_global("likely_subtags").get(str(parsed)) or get_global("likely_subtags").get(
        parsed.language
    )
    script = Locale.parse(likely).script if likely else None
    return parsed.language, script


def _preferences(header: str) -> list[str]:
    """The tags of an Accept-Language header, most preferred first (by ``q``, then order);
    ``*`` and tags with ``q=0`` are left out."""
    weighted = []
    for position, entry in enumerate(header.split(",")[:MAX_PREFERENCES]):
        tag, _, parameters = entry.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag and tag != "*" and 0 < quality <= 1:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str, offered: Sequence[str]) -> str | None:
    """Of the ``offered`` languages, the one an Accept-Language ``header`` prefers most, or
    None. A tag matches a language of the same language and script, told or likely: ``zh``,
    ``zh-CN`` and ``zh-Hans-SG`` are Simplified Chinese, ``zh-TW``, ``zh-HK`` and ``zh-Hant``
    are not; ``en-GB`` is English. (Written here because Babel's ``negotiate_locale``
    compares tags as strings, so ``zh-CN`` would not find ``zh-Hans``.)"""
    wanted = {_language_and_script(language): language for language in offered}
    for tag in _preferences(header):
        language = wanted.get(_language_and_script(tag))
        if language is not None:
            return language
    return None
