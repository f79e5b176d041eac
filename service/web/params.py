"""Whole numbers from paths, queries and forms, read one way everywhere.

``int()`` accepts what no URL should mean (" 7", "+7", "7_000", Arabic-Indic digits) and
refuses strings past 4,300 digits with a ValueError, and PostgreSQL refuses ids past its
bigint: so the length is bounded before anything is converted, and only ASCII digits in
range are a number at all."""

from __future__ import annotations

from aiohttp import web

from service.cursor import MAX_ID
from service.web.problems import Problem


def whole_number(raw: str | None, low: int, high: int) -> int | None:
    """``raw`` as an int in ``low..high`` (both non-negative), else None. Leading zeros are
    refused with the rest of the over-long strings: an id has one spelling."""
    if not raw or len(raw) > len(str(high)) or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


def path_id(request: web.Request, message: str, name: str = "id") -> int:
    """The row id a path names; anything that cannot be one names nothing (404)."""
    value = whole_number(request.match_info.get(name), 1, MAX_ID)
    if value is None:
        raise Problem(404, message)
    return value


def query_number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """``?name=`` as a number in ``low..high``, ``default`` when absent; else 400."""
    raw = request.query.get(name)
    if raw is None:
        return default
    value = whole_number(raw, low, high)
    if value is None:
        message = f"{name} must be a whole number from {low} to {high}."
        raise Problem(400, message, f"invalid_{name}")
    return value
