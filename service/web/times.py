"""Moments as pages show them: machine-readable, exact for people, and "3 min ago"."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup


# A feed shows three strings of time for each of its twenty posts: they are cut from one
# isoformat() ("2026-11-21T08:18:58[.ffffff]+00:00"), several times cheaper than strftime.
def _iso_utc(moment: datetime) -> str:
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, with a Z, as <time datetime> uses."""
    return _iso_utc(moment)[:19] + "Z"


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
    iso = _iso_utc(moment)
    return f"{iso[:10]} {iso[11:16]} UTC"


# The opening tags of recent moments' <time> elements. A post is shown on many pages to
# many readers, and formatting its moment (isoformat, ~3.5 us) cost more than the rest of
# its time element; a moment's tag never changes. Oldest first out past this many.
REMEMBERED_MOMENTS = 10_000
_time_tags: dict[datetime, str] = {}


def _time_tag_open(moment: datetime) -> str:
    tag = _time_tags.get(moment)
    if tag is None:
        iso = _iso_utc(moment)
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
