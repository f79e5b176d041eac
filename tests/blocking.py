"""A viewer with people hidden from them by blocks and mutes, each of whom left everything a
person can leave behind: for the tests that prove nothing of theirs leaks anywhere
(tests/test_read_layer.py for every statement, tests/test_blocks.py for every route)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text

from service.domain import blocks, tag_follows
from tests.support import Account, make_trend

if TYPE_CHECKING:
    from tests.conftest import Factory

# Who each is to the viewer.
BLOCKER = "blocker"  # blocked the viewer
BLOCKED = "blocked"  # the viewer blocked them
MUTED = "muted"  # the viewer muted them, until unmuted
EXPIRED = "expired"  # the viewer muted them for a while, which has passed
ROLES = (BLOCKER, BLOCKED, MUTED, EXPIRED)
# The hashtag of the third's post and of each one's: its page shows only what the rule lets.
TAG = "blockingworld"

# Whose what a viewer may not see: what they wrote and did (posts, comments, likes'
# notifications), their place in lists of people, and looking them up at all.
HIDDEN = {
    "content": (BLOCKER, BLOCKED, MUTED),
    "people": (BLOCKER, BLOCKED),
    "lookup": (BLOCKER,),
}


@dataclass
class Blocking:
    viewer: Account
    third: Account  # everyone follows them and is followed by them, likes and comments
    third_post: int
    viewer_post: int
    people: dict[str, Account] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)  # each one's post
    comments: dict[str, int] = field(default_factory=dict)  # on the third's post
    viewer_comments: dict[str, int] = field(default_factory=dict)  # on the viewer's post
    post_status_ids: dict[str, int] = field(default_factory=dict)
    comment_status_ids: dict[str, int] = field(default_factory=dict)
    session_hash: bytes = b""  # of a session of the viewer's
    third_status_id: int = 0
    # The words of each one's post and comments: seen anywhere, something of theirs leaked.
    words: dict[str, str] = field(default_factory=dict)

    def hidden(self, what: str) -> list[Account]:
        return [self.people[role] for role in HIDDEN[what]]

    def names(self, what: str) -> set[str]:
        return {person.username for person in self.hidden(what)}

    def leaks(self, text: str, named: tuple[str, ...] = ()) -> set[str]:
        """What of the people hidden from the viewer's every sight is in ``text``: their
        words, and their names but for the roles ``named`` (a page about them, or a list
        of people that a mute leaves them in)."""
        found = {role for role in HIDDEN["content"] if self.words[role] in text}
        names = {role for role in HIDDEN["content"] if role not in named}
        return found | {role for role in names if self.people[role].username in text}


async def blocking_world(db, factory: Factory) -> Blocking:
    """Everyone follows the viewer and the third and is followed by them, likes and
    comments on both's posts; then the blocks and mutes are made through the commands.
    Follows and notifications the block ended are put back by hand, and the expired mute's
    end set in the past, so that the rule alone must keep them out."""
    viewer, third = await factory.user(), await factory.user()
    third_post = await factory.post(third, f"the third's post #{TAG}")
    world = Blocking(viewer, third, third_post, await factory.post(viewer))
    for role in ROLES:
        person = world.people[role] = await factory.user(username=factory.unique(role))
        words = world.words[role] = f"words of the {role} {secrets.token_hex(4)}"
        world.posts[role] = await factory.post(person, f"{words} in a post #{TAG}")
        for other in (viewer, third):
            await factory.follow(person, other)
            await factory.follow(other, person)
        for post in (world.third_post, world.viewer_post):
            await factory.like(person, post)
        await factory.like(viewer, world.posts[role])
        world.comments[role] = await factory.comment(person, world.third_post, f"{words}, 1")
        world.viewer_comments[role] = await factory.comment(
            person, world.viewer_post, f"{words}, 2"
        )
    people = world.people
    async with db.begin() as session:
        # The viewer follows the tag everyone's post carries: a followed tag must not bring
        # in what the rule hides either.
        await tag_follows.follow(session, viewer.id, TAG, TAG)
        await blocks.block(session, people[BLOCKER].id, viewer.id)
        await blocks.block(session, viewer.id, people[BLOCKED].id)
        await blocks.mute(session, viewer.id, people[MUTED].id)
        await blocks.mute(session, viewer.id, people[EXPIRED].id, 3600)
        await session.execute(
            text("UPDATE mutes SET expires_at = now() - interval '1 minute' WHERE muted_id = :id"),
            {"id": people[EXPIRED].id},
        )
        for role in (BLOCKER, BLOCKED):
            person = people[role].id
            for follower, followed in ((viewer.id, person), (person, viewer.id)):
                await session.execute(
                    text("INSERT INTO follows (follower_id, followed_id) VALUES (:a, :b)"),
                    {"a": follower, "b": followed},
                )
            for kind, post in (("follow", None), ("like", world.viewer_post)):
                await session.execute(
                    text(
                        "INSERT INTO notifications (user_id, actor_id, kind, post_id)"
                        " VALUES (:user, :actor, :kind, :post)"
                    ),
                    {"user": viewer.id, "actor": person, "kind": kind, "post": post},
                )
        for role in ROLES:
            world.post_status_ids[role] = await session.scalar(
                text("SELECT status_id FROM posts WHERE id = :id"), {"id": world.posts[role]}
            )
            world.comment_status_ids[role] = await session.scalar(
                text("SELECT status_id FROM comments WHERE id = :id"),
                {"id": world.comments[role]},
            )
        world.third_status_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": world.third_post}
        )
        world.session_hash = secrets.token_bytes(32)
        await session.execute(
            text(
                "INSERT INTO auth_sessions (id_hash, user_id, expires_at)"
                " VALUES (:hash, :user, now() + interval '1 day')"
            ),
            {"hash": world.session_hash, "user": viewer.id},
        )
        await make_trend(session, [*world.posts.values(), world.third_post, world.viewer_post])
    return world
