"""Following hashtags: idempotent, at most MAX_FOLLOWED_TAGS per account, listed newest
first. A followed tag's public posts come into the follower's home timeline
(service.reads.posts.home_rows; docs/discovery.md).

A tag no post has had yet can be followed, as in Mastodon: following it stores the tag
(with the spelling followed as its display form, as a first post would), so that the
posts to come are found under it."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import User

# How many tags one account may follow. Each followed tag is one short index descent in
# every page of the home timeline; Mastodon sets no limit, but a hundred is more than a
# reader can follow with attention and keeps the timeline's cost bounded.
MAX_FOLLOWED_TAGS = 100


class TooManyTags(ValueError):
    pass


class UserNotFound(LookupError):
    pass


async def follow(session: AsyncSession, user_id: int, name: str, display: str) -> bool:
    """Follow the tag stored as ``name`` (normalised; ``display`` is the spelling shown if
    the tag is new): False (and nothing changed) if already followed. Raises TooManyTags
    past MAX_FOLLOWED_TAGS, UserNotFound if the account is gone."""
    # The account's row, locked, so that two follows at once are counted one after the
    # other against the limit, and a deletion of the account either waits or goes first.
    locked = await session.scalar(
        select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise UserNotFound(user_id)
    await session.execute(
        text("INSERT INTO tags (name, display) VALUES (:name, :display) ON CONFLICT DO NOTHING"),
        {"name": name, "display": display},
    )
    already, count = (
        await session.execute(
            text(
                "SELECT bool_or(t.name = :name), count(*) FROM tag_follows f"
                " JOIN tags t ON t.id = f.tag_id WHERE f.user_id = :user"
            ),
            {"name": name, "user": user_id},
        )
    ).one()
    if already:
        return False
    if count >= MAX_FOLLOWED_TAGS:
        raise TooManyTags(name)
    await session.execute(
        text(
            "INSERT INTO tag_follows (user_id, tag_id)"
            " SELECT :user, t.id FROM tags t WHERE t.name = :name"
        ),
        {"user": user_id, "name": name},
    )
    return True


async def unfollow(session: AsyncSession, user_id: int, name: str) -> bool:
    """Stop following the tag stored as ``name``: False if it was not followed."""
    result = await session.execute(
        text(
            "DELETE FROM tag_follows f USING tags t"
            " WHERE f.user_id = :user AND f.tag_id = t.id AND t.name = :name"
        ),
        {"user": user_id, "name": name},
    )
    return result.rowcount > 0
