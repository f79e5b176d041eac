"""Tags by name: what a tag's page and the API's Tag entity show of it (docs/discovery.md).
Its posts are listed in service.reads.statuses (``tagged``, ``tag_page``)."""

from __future__ import annotations

from service.reads.statements import Reader, register
from service.reads.views import TagView

# The tag whose normalised name is $1.
BY_NAME = register(
    "tag_by_name", "SELECT t.name, t.display, t.post_count FROM tags t WHERE t.name = $1"
)


async def by_name(reader: Reader, name: str) -> TagView | None:
    """The tag stored under the normalised ``name``, or None when no post ever had it."""
    row = await reader.row(BY_NAME, name)
    return None if row is None else TagView(*row)
