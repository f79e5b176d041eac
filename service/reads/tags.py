"""Tags by name: what a tag's page and the API's Tag entity show of it, and the tags someone
follows (docs/discovery.md). Its posts are listed in service.reads.statuses (``tagged``,
``tag_page``)."""

from __future__ import annotations

from collections.abc import Callable

from service.cursor import Position
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.statements import Reader, register, register_paged
from service.reads.views import FollowedTag, Page, TagView

# The tag whose normalised name is $1, and whether viewer $2 (NULL: nobody) follows it.
BY_NAME = register(
    "tag_by_name",
    """SELECT t.name, t.display, t.post_count,
              EXISTS (SELECT FROM tag_follows f WHERE f.user_id = $2 AND f.tag_id = t.id)
         FROM tags t WHERE t.name = $1""",
)


async def by_name(reader: Reader, name: str, viewer_id: int | None = None) -> TagView | None:
    """The tag stored under the normalised ``name``, or None when no post ever had it and
    nobody followed it."""
    row = await reader.row(BY_NAME, name, viewer_id)
    return None if row is None else TagView(*row)


def _followed(order: str) -> Callable[[int], str]:
    """The tags user $1 follows, by (followed at, tag id) from the position ($2, $3) on,
    newest first (or, with ``ASC``, oldest first, for the Mastodon API's ``min_id``). A
    tag is the same for every viewer: nothing here is hidden by anyone's block."""
    past = "<" if order == "DESC" else ">"

    def build(rows: int) -> str:
        return f"""
    SELECT t.name, t.display, t.post_count, true, f.tag_id, f.created_at
      FROM tag_follows f JOIN tags t ON t.id = f.tag_id
     WHERE f.user_id = $1 AND (f.created_at, f.tag_id) {past} ($2, $3)
     ORDER BY f.created_at {order}, f.tag_id {order}
     LIMIT {rows}
    """

    return build


FOLLOWED = {
    "DESC": register_paged("followed_tags", _followed("DESC")),
    "ASC": register_paged("followed_tags_oldest", _followed("ASC")),
}


def _followed_tag(row) -> FollowedTag:
    name, display, count, following, tag_id, since = row
    return FollowedTag(TagView(name, display, count, following), tag_id, since)


async def followed(
    reader: Reader, user_id: int, after: Position | None, limit: int
) -> Page[FollowedTag]:
    """A page of the tags ``user_id`` follows, newest first."""
    start = after or NEWEST_FIRST
    rows = await reader.rows(FOLLOWED["DESC"].rows(limit + 1), user_id, start.at, start.id)
    return page_of([_followed_tag(row) for row in rows], limit)


async def followed_between(
    reader: Reader,
    user_id: int,
    before: Position,
    after: Position,
    oldest_first: bool,
    limit: int,
) -> list[FollowedTag]:
    """Up to ``limit`` of the tags ``user_id`` follows, followed strictly between the
    positions ``after`` (earlier) and ``before`` (later): the latest of them, or with
    ``oldest_first`` the earliest; latest first either way."""
    if oldest_first:
        rows = await reader.rows(FOLLOWED["ASC"].rows(limit), user_id, after.at, after.id)
        found = [_followed_tag(row) for row in rows]
        return [t for t in found if (t.since, t.tag_id) < (before.at, before.id)][::-1]
    rows = await reader.rows(FOLLOWED["DESC"].rows(limit), user_id, before.at, before.id)
    found = [_followed_tag(row) for row in rows]
    return [t for t in found if (t.since, t.tag_id) > (after.at, after.id)]
