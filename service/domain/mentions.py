"""What posts and comments tag and mention, stored when they are written, and the people
they mention told (docs/discovery.md).

A mention is resolved to an account once, when the text is written: its rows
(post_mentions, comment_mentions) and the usernames and ids on the post or comment itself,
from which every renderer links it. Someone mentioned is notified when the post is
published (a photo post when its photos are ready), or with the comment, and only if the
read layer's rule lets them see the post and its author: never across a block, never from
someone they muted, never of a post they cannot see.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service import discovery
from service.domain import notifications
from service.reads.visibility import author_visible_to, person_visible, post_visible_to

_RESOLVE = text(
    f"""
    SELECT u.id, u.username
      FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS asked(name, position)
      JOIN users u ON lower(u.username) = asked.name
     WHERE {person_visible("u")}
     ORDER BY asked.position
    """
)


async def _resolve(session: AsyncSession, names: Sequence[str]) -> list[tuple[int, str]]:
    """The accounts of the (lowercased) ``names`` that exist and anyone may see, in order."""
    if not names:
        return []
    return [(row.id, row.username) for row in await session.execute(_RESOLVE, {"names": names})]


async def record_post(session: AsyncSession, post_id: int, body: str) -> None:
    """Store the post's tags and mentions (before it is published: its tags take its status
    id when it is, by a trigger)."""
    found = discovery.find(body)
    if found.tags:
        # Sorted, so that two posts adding the same new tags take their locks in one order.
        tags = sorted(found.tags)
        await session.execute(
            text(
                "INSERT INTO tags (name, display)"
                " SELECT * FROM unnest(CAST(:names AS text[]), CAST(:displays AS text[]))"
                " ON CONFLICT (name) DO NOTHING"
            ),
            {"names": [name for name, _ in tags], "displays": [shown for _, shown in tags]},
        )
        await session.execute(
            text(
                "INSERT INTO post_tags"
                " (post_id, tag_id, status_id, published_at, author_id, audience)"
                " SELECT p.id, t.id, p.status_id, p.published_at, p.author_id, p.audience"
                " FROM posts p, tags t"
                " WHERE p.id = :post AND t.name = ANY(CAST(:names AS text[]))"
            ),
            {"post": post_id, "names": [name for name, _ in tags]},
        )
    accounts = await _resolve(session, found.mentions)
    if accounts:
        await session.execute(
            text(
                "INSERT INTO post_mentions (post_id, user_id)"
                " SELECT :post, unnest(CAST(:ids AS bigint[]))"
            ),
            {"post": post_id, "ids": [user_id for user_id, _ in accounts]},
        )
        await session.execute(
            text("UPDATE posts SET mention_names = :names, mention_ids = :ids WHERE id = :post"),
            {
                "post": post_id,
                "names": [name for _, name in accounts],
                "ids": [user_id for user_id, _ in accounts],
            },
        )


async def post_published(session: AsyncSession, post_id: int, author_id: int) -> None:
    """Tell those the post mentions, who may see it, that they were mentioned."""
    told = await session.scalars(
        text(
            f"""
            SELECT pm.user_id FROM post_mentions pm JOIN posts p ON p.id = pm.post_id
             WHERE pm.post_id = :post AND pm.user_id <> p.author_id
               AND {post_visible_to("p", "pm.user_id")}
             ORDER BY pm.user_id
            """
        ),
        {"post": post_id},
    )
    for user_id in list(told):
        await notifications.notify(session, user_id, author_id, "mention", post_id=post_id)


async def record_comment(
    session: AsyncSession, comment_id: int, post_id: int, author_id: int, body: str
) -> None:
    """Store whom the comment mentions and tell them, as for a post; except the post's
    author, whom the comment itself notifies already."""
    accounts = await _resolve(session, discovery.find(body).mentions)
    if not accounts:
        return
    ids = [user_id for user_id, _ in accounts]
    await session.execute(
        text(
            "INSERT INTO comment_mentions (comment_id, user_id)"
            " SELECT :comment, unnest(CAST(:ids AS bigint[]))"
        ),
        {"comment": comment_id, "ids": ids},
    )
    await session.execute(
        text("UPDATE comments SET mention_names = :names, mention_ids = :ids WHERE id = :id"),
        {"id": comment_id, "names": [name for _, name in accounts], "ids": ids},
    )
    told = await session.scalars(
        text(
            f"""
            SELECT cm.user_id FROM comment_mentions cm
              JOIN posts p ON p.id = :post
              JOIN users ca ON ca.id = :author
             WHERE cm.comment_id = :comment AND cm.user_id <> p.author_id
               AND cm.user_id <> :author
               AND {post_visible_to("p", "cm.user_id")}
               AND {author_visible_to("ca", "cm.user_id")}
             ORDER BY cm.user_id
            """
        ),
        {"comment": comment_id, "post": post_id, "author": author_id},
    )
    for user_id in list(told):
        await notifications.notify(
            session, user_id, author_id, "mention", post_id=post_id, comment_id=comment_id
        )
