"""Moments as pages show them: machine-readable, exact for people, and "3 min ago"."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from markupsafe import Markup


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


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'3 min ago' for the page; scripts keep it fresh, the exact time is in the tooltip."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for unit_seconds, unit in (
        (86400 * 365, "y"),
        (86400 * 7, "w"),
        (86400, "d"),
        (3600, "h"),
        (60, "min"),
    ):
        if seconds >= unit_seconds:
            return f"{seconds // unit_seconds} {unit} ago"
    return "just now"


def exact_time(moment: datetime) -> str:
    """For people: "2026-11-21 08:18 UTC"."""
    iso = _rfc3339_utc(moment)[1:20].decode()
    return f"{iso[:10]} {iso[11:16]} UTC"


# The opening tags of recent moments' <time> elements. A post is shown on many pages to
# many readers, and formatting its moment (~1 us) cost more than the rest of
# its time element; a moment's tag never changes. Oldest first out past this many.
REMEMBERED_MOMENTS = 10_000
_time_tags: dict[datetime, str] = {}


def _time_tag_open(moment: datetime) -> str:
    tag = _time_tags.get(moment)
    if tag is None:
        iso = _rfc3339_utc(moment)[1:20].decode()
        tag = f'<time datetime="{iso[:19]}Z" title="{iso[:10]} {iso[11:16]} UTC" data-relative>'
        if len(_time_tags) >= REMEMBERED_MOMENTS:
            del _time_tags[next(iter(_time_tags))]
        _time_tags[moment] = tag
    return tag


def time_element(moment: datetime, now: datetime) -> str:
    """A <time> element: the moment for machines and in its tooltip, how long ago (from
    ``now``) as its text, which scripts keep fresh. Made of digits and fixed words, so it
    is safe HTML as it is."""
    return f"{_time_tag_open(moment)}{relative_time(moment, now)}</time>"


def time_tag(moment: datetime) -> Markup:
    """time_element as a template filter."""
    return Markup(time_element(moment, datetime.now(UTC)))
