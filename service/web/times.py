"""Moments as pages show them: machine-readable, exact for people, and "3 min ago"."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import orjson
from babel.dates import format_datetime, format_timedelta
from markupsafe import Markup, escape

from service import i18n


# A page or an API answer shows two or three moments for each of its twenty posts. They are
# cut from orjson's RFC 3339 text ('"2026-11-21T08:18:58[.ffffff]Z"'), three times cheaper
# than isoformat() and ten times cheaper than strftime.
def _rfc3339_utc(moment: datetime) -> bytes:
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return orjson.dumps(utc, option=orjson.OPT_UTC_Z)


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, with a Z, as <time datetime> uses."""
    return _rfc3339_utc(moment)[1:20].decode() + "Z"


def iso_millis(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, with a Z ("2026-11-21T08:18:58.123Z"), as both
    APIs show times."""
    text = _rfc3339_utc(moment)
    return text[1:24].decode() + "Z" if moment.microsecond else text[1:20].decode() + ".000Z"


# Under this, a moment is "just now" (in every language).
JUST_NOW_SECONDS = 45
# Snapline's own short English forms ("3 min ago"), largest unit first; other languages
# use their CLDR forms (Babel here, Intl.RelativeTimeFormat in the page's script), which
# count months as well.
_ENGLISH_UNITS = ((86400 * 365, "y"), (86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "min"))
_CLDR_UNITS_SECONDS = (86400 * 365, 86400 * 30, 86400 * 7, 86400, 3600, 60)


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'3 min ago' ("3分钟前") for the page, in the language in use; scripts keep it fresh,
    the exact time is in the tooltip."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    language = i18n.current()
    if seconds < JUST_NOW_SECONDS:
        return i18n.gettext("just now")
    if language == i18n.SOURCE_LANGUAGE:
        for unit_seconds, unit in _ENGLISH_UNITS:
            if seconds >= unit_seconds:
                return f"{seconds // unit_seconds} {unit} ago"
        return "just now"
    unit_seconds = next((size for size in _CLDR_UNITS_SECONDS if seconds >= size), None)
    if unit_seconds is None:  # under a minute, as English words it
        return i18n.gettext("just now")
    return _cldr_ago(language, unit_seconds, seconds // unit_seconds)


# A page shows twenty moments, and Babel takes ~30 us to word one; the words for a count
# of a unit never change.
@functools.lru_cache(maxsize=2048)
def _cldr_ago(language: str, unit_seconds: int, count: int) -> str:
    return format_timedelta(
        -timedelta(seconds=unit_seconds * count),
        threshold=1,
        add_direction=True,
        format="narrow",
        locale=i18n.locale(language),
    )


def exact_time(moment: datetime) -> str:
    """For people: "2026-11-21 08:18 UTC" ("2026年11月21日 08:18:58 UTC")."""
    language = i18n.current()
    if language != i18n.SOURCE_LANGUAGE:
        utc = moment.astimezone(UTC)
        return f"{format_datetime(utc, 'medium', tzinfo=UTC, locale=i18n.locale(language))} UTC"
    iso = _rfc3339_utc(moment)[1:20].decode()
    return f"{iso[:10]} {iso[11:16]} UTC"


# The opening tags of recent moments' <time> elements. A post is shown on many pages to
# many readers, and formatting its moment (~1 us) cost more than the rest of
# its time element; a moment's tag never changes. Oldest first out past this many.
REMEMBERED_MOMENTS = 10_000
_time_tags: dict[tuple[datetime, str], str] = {}


def _time_tag_open(moment: datetime) -> str:
    key = (moment, i18n.current())
    tag = _time_tags.get(key)
    if tag is None:
        iso = _rfc3339_utc(moment)[1:20].decode()
        tag = f'<time datetime="{iso[:19]}Z" title="{escape(exact_time(moment))}" data-relative>'
        if len(_time_tags) >= REMEMBERED_MOMENTS:
            del _time_tags[next(iter(_time_tags))]
        _time_tags[key] = tag
    return tag


def time_element(moment: datetime, now: datetime) -> str:
    """A <time> element: the moment for machines and in its tooltip, how long ago (from
    ``now``) as its text, which scripts keep fresh. Made of digits and the catalogues'
    words, so it is safe HTML as it is."""
    return f"{_time_tag_open(moment)}{relative_time(moment, now)}</time>"


def time_tag(moment: datetime) -> Markup:
    """time_element as a template filter."""
    return Markup(time_element(moment, datetime.now(UTC)))
