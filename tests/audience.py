"""An author with a post for each audience (public, or made private after posting: its
posts keep their audience), and the viewers each audience is or is not for, one of them
waiting for the author to approve their follow request:
for the tests that prove a followers-only post reaches nobody outside its audience and an
unlisted post stays off the lists of everyone's posts (tests/test_audience.py), statement by
statement and route by route (docs/privacy.md)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

from service.domain import blocks, tag_follows
from tests.support import Account, make_trend

if TYPE_CHECKING:
    from tests.conftest import Factory

AUDIENCES = ("public", "unlisted", "followers")
# Every post of this world carries it: its tag page must list the public one alone.
TAG = "audienceworld"
# Who each viewer is to the author. Anonymous is nobody signed in.
ANONYMOUS = "anonymous"
FOLLOWER = "follower"  # follows the author
STRANGER = "stranger"  # follows nobody
MODERATOR = "moderator"  # a moderator who does not follow the author
BLOCKED = "blocked"  # follows the author, whom the author blocked
REQUESTER = "requester"  # asked to follow the author, not approved yet
AUTHOR = "author"
VIEWERS = (ANONYMOUS, FOLLOWER, STRANGER, MODERATOR, BLOCKED, REQUESTER, AUTHOR)
# Who may see a followers-only post: its author and their followers, nobody else.
IN_FOLLOWERS = (FOLLOWER, AUTHOR)


@dataclass
class AudienceWorld:
    author: Account
    people: dict[str, Account] = field(default_factory=dict)  # every viewer but anonymous
    posts: dict[str, int] = field(default_factory=dict)  # by audience
    status_ids: dict[str, int] = field(default_factory=dict)  # by audience
    # The follower's comment under each post, and its status id.
    comments: dict[str, int] = field(default_factory=dict)
    comment_status_ids: dict[str, int] = field(default_factory=dict)
    # The words of each post and of the comment under it: seen anywhere, it showed.
    words: dict[str, str] = field(default_factory=dict)
    # Each signed-in viewer's notifications about each post (from the author).
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)

    def viewer_id(self, viewer: str) -> int | None:
        return None if viewer == ANONYMOUS else self.people[viewer].id

    def shown(self, body: str) -> set[str]:
        """The audiences whose post or comment shows in ``body``."""
        return {audience for audience in AUDIENCES if self.words[audience] in body}


async def audience_world(db, factory: Factory, private: bool = False) -> AudienceWorld:
    """``private``: the author makes the account private once the posts are made."""
    author = await factory.user(username=factory.unique("author"))
    world = AudienceWorld(author)
    world.people[AUTHOR] = author
    for viewer in (FOLLOWER, STRANGER, MODERATOR, BLOCKED, REQUESTER):
        role = "moderator" if viewer == MODERATOR else "user"
        world.people[viewer] = await factory.user(username=factory.unique(viewer), role=role)
        # Each has a post of their own: their home timeline is never empty.
        await factory.post(world.people[viewer])
    follower = world.people[FOLLOWER]
    await factory.follow(follower, author)
    await factory.follow(world.people[BLOCKED], author)
    for audience in AUDIENCES:
        words = world.words[audience] = f"{audience} words {secrets.token_hex(4)}"
        post_id = world.posts[audience] = await factory.post(
            author, f"{words} posted #{TAG}", audience
        )
        # Before any block: the follower's comment and like, notified to the author.
        world.comments[audience] = await factory.comment(follower, post_id, f"{words}, said")
        await factory.like(follower, post_id)
    async with db.begin() as session:
        await blocks.block(session, author.id, world.people[BLOCKED].id)
        # The block ended the follow: put it back, so that the rule alone keeps them out.
        await session.execute(
            text("INSERT INTO follows (follower_id, followed_id) VALUES (:a, :b)"),
            {"a": world.people[BLOCKED].id, "b": author.id},
        )
        for audience, post_id in world.posts.items():
            world.status_ids[audience] = await session.scalar(
                text("SELECT status_id FROM posts WHERE id = :id"), {"id": post_id}
            )
            world.comment_status_ids[audience] = await session.scalar(
                text("SELECT status_id FROM comments WHERE id = :id"),
                {"id": world.comments[audience]},
            )
        # A notification about each post for each viewer, as if the author had acted on
        # it: one about a post the viewer may not see must not show.
        await session.execute(
            text("INSERT INTO follow_requests (requester_id, target_id) VALUES (:a, :b)"),
            {"a": world.people[REQUESTER].id, "b": author.id},
        )
        # Everyone signed in follows the tag of the author's posts: through it, only the
        # public post may come into their home timelines.
        for viewer in (FOLLOWER, STRANGER, MODERATOR, BLOCKED, REQUESTER):
            await tag_follows.follow(session, world.people[viewer].id, TAG, TAG)
        if private:
            await session.execute(
                text(
                    "UPDATE users SET locked = true, default_audience = 'followers' WHERE id = :id"
                ),
                {"id": author.id},
            )
        for viewer in (FOLLOWER, STRANGER, MODERATOR, BLOCKED, REQUESTER):
            world.notifications[viewer] = {}
            for audience, post_id in world.posts.items():
                world.notifications[viewer][audience] = await session.scalar(
                    text(
                        "INSERT INTO notifications (user_id, actor_id, kind, post_id)"
                        " VALUES (:user, :actor, 'like', :post) RETURNING id"
                    ),
                    {"user": world.people[viewer].id, "actor": author.id, "post": post_id},
                )
        await make_trend(session, world.posts.values())
    return world
