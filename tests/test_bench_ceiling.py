"""`make bench`'s yardstick (bench/ceiling.py) answers with the service's own card statement:
a card column added to the read layer must not leave it unable to read a row."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

from service.reads import posts
from service.settings import PROJECT_ROOT


def _ceiling():
    spec = importlib.util.spec_from_file_location("ceiling", PROJECT_ROOT / "bench" / "ceiling.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ceiling_reads_a_row_of_the_card_statement() -> None:
    moment = datetime(2026, 11, 29, tzinfo=UTC)
    row: list[object] = [None] * posts.CARD_COLUMNS
    row[:12] = [7, 1, "ann", "Ann", None, "hello", "published", moment, moment, 3, 1, False]
    item = _ceiling().post_json(row)
    assert (item["id"], item["author"]["username"], item["body"]) == (7, "ann", "hello")
    assert (item["like_count"], item["comment_count"], item["photos"]) == (3, 1, [])
