"""Trending: adding counted views, recomputing the rank of posts whose counts changed, and
the moderators' "remove from trends" (docs/trending.md).

A post's trending score is its engagement decayed exponentially with its age:

    engagement = likes + COMMENT_WEIGHT * comments + views / VIEWS_PER_LIKE
    score(now) = engagement * exp(-(now - published_at) / TAU)

Its logarithm is ln(engagement) + published_at / TAU - now / TAU: the last term is the same
for every post, so the order of two posts never changes as time passes, and the time-free
part can be stored once and left alone until the post's counts change. It is stored as a
time, ``rank_at = published_at + TAU * ln(engagement)``: the moment at which a post with an
engagement of 1 would rank the same. Trending reads posts by ``rank_at`` descending, a
keyset order like the timelines', and aging costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import reports
from service.i18n import gettext as _
from service.models import Post, PostTrend, User

# A comment costs more than a like and says more about a post.
COMMENT_WEIGHT = 2.0
# Views are cheap and plentiful: ten of them weigh as much as a like.
VIEWS_PER_LIKE = 10.0
# The score's e-folding time: every TAU a post's score falls by a factor of e (half-life
# TAU * ln 2, about 7 hours). A post with ten times the engagement of today's typical
# trending post outranks fresh ones for TAU * ln 10, about 23 hours: "on top for a day".
TAU = timedelta(hours=10)
# At most this many changed posts are recomputed by one statement; the job repeats until
# none is left.
RECOMPUTE_BATCH_POSTS = 5000

ENGAGEMENT = (
    f"(p.like_count + {COMMENT_WEIGHT} * p.comment_count + p.view_count / {VIEWS_PER_LIKE})"
)

# One statement: take up to $1 changed posts (skipping any another process is taking),
# store the rank of those with engagement and drop the rank of those left with none (unless
# a moderator's removal is recorded on it). Returns how many posts were taken.
_RECOMPUTE = text(f"""
    WITH changed AS (
        DELETE FROM trend_changes c
         WHERE c.post_id IN (SELECT t.post_id FROM trend_changes t
                              ORDER BY t.post_id
                              LIMIT :batch FOR UPDATE SKIP LOCKED)
        RETURNING c.post_id
    ), scored AS (
        SELECT p.id, p.published_at, p.has_photos, p.audience, p.author_id,
               u.created_at AS author_since, {ENGAGEMENT} AS engagement
          FROM changed
          JOIN posts p ON p.id = changed.post_id
          JOIN users u ON u.id = p.author_id
         WHERE p.published_at IS NOT NULL
    ), ranked AS (
        INSERT INTO post_trends (post_id, rank_at, has_photos, published_at, audience,
                                 author_id, author_since)
        SELECT s.id, s.published_at
                     + make_interval(secs => {TAU.total_seconds()} * ln(s.engagement)),
               s.has_photos, s.published_at, s.audience, s.author_id, s.author_since
          FROM scored s
         WHERE s.engagement > 0
        ON CONFLICT (post_id) DO UPDATE
              SET rank_at = EXCLUDED.rank_at, has_photos = EXCLUDED.has_photos
        RETURNING 1
    ), unranked AS (
        DELETE FROM post_trends t USING scored s
         WHERE t.post_id = s.id AND s.engagement <= 0 AND t.removed_at IS NULL
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM ranked),
           (SELECT count(*) FROM unranked)
""")


async def recompute_changed(session: AsyncSession, batch: int = RECOMPUTE_BATCH_POSTS) -> int:
    """Recompute the rank of up to ``batch`` posts whose counts changed; how many were taken
    (fewer than ``batch``: none is left)."""
    taken, _, _ = (await session.execute(_RECOMPUTE, {"batch": batch})).one()
    return int(taken)


# One statement for a whole flush: each post's views added to its count (the trigger on
# posts notes the change for the trending job). A post deleted meanwhile is skipped.
_ADD_VIEWS = text("""
    UPDATE posts p SET view_count = p.view_count + v.views
      FROM unnest(CAST(:ids AS bigint[]), CAST(:views AS bigint[])) AS v(id, views)
     WHERE p.id = v.id
""")


async def add_views(session: AsyncSession, views: Mapping[int, int]) -> None:
    """Add counted views (post id to number of views) to the posts' counts."""
    if not views:
        return
    ids = sorted(views)  # one lock order for every process, so flushes never deadlock
    await session.execute(_ADD_VIEWS, {"ids": ids, "views": [views[i] for i in ids]})


class NoSuchPost(LookupError):
    pass


class TrendDecisionRefused(ValueError):
    """A decision that would change nothing: the message says why (a 422)."""


async def _author_of(session: AsyncSession, post_id: int) -> tuple[int, str]:
    row = (
        await session.execute(
            select(Post.author_id, User.username)
            .join(User, User.id == Post.author_id)
            .where(Post.id == post_id)
        )
    ).one_or_none()
    if row is None:
        raise NoSuchPost(post_id)
    return row[0], row[1]


async def remove_from_trends(
    session: AsyncSession, post_id: int, moderator_id: int, reason: str = ""
) -> None:
    """A moderator takes the post off trending, for good until restored, recorded in the
    audit log. Its rank is kept (and still recomputed), so restoring puts it back where its
    engagement places it."""
    author_id, username = await _author_of(session, post_id)
    removed = await session.execute(
        insert(PostTrend)
        .values(post_id=post_id, rank_at=text("now()"), removed_at=text("now()"),
                removed_by=moderator_id)
        .on_conflict_do_update(
            index_elements=[PostTrend.post_id],
            set_={"removed_at": text("now()"), "removed_by": moderator_id},
            where=PostTrend.removed_at.is_(None),
        )
        .returning(PostTrend.post_id)
    )  # fmt: skip
    if removed.first() is None:
        raise TrendDecisionRefused(_("This post is already removed from trends."))
    await reports.record_action(
        session, moderator_id, "remove_from_trends", author_id, username, reason
    )


async def restore_to_trends(
    session: AsyncSession, post_id: int, moderator_id: int, reason: str = ""
) -> None:
    """Undo a removal: the post may trend again, as its engagement says."""
    author_id, username = await _author_of(session, post_id)
    restored = await session.execute(
        update(PostTrend)
        .where(PostTrend.post_id == post_id, PostTrend.removed_at.is_not(None))
        .values(removed_at=None, removed_by=None)
        .returning(PostTrend.post_id)
    )
    if restored.first() is None:
        raise TrendDecisionRefused(_("This post is not removed from trends."))
    # Its rank may be a placeholder from a removal before it had any: recompute it.
    await session.execute(
        text("INSERT INTO trend_changes (post_id) VALUES (:id) ON CONFLICT DO NOTHING"),
        {"id": post_id},
    )
    await reports.record_action(
        session, moderator_id, "restore_to_trends", author_id, username, reason
    )


async def removed_from_trends(session: AsyncSession, post_id: int) -> bool:
    return bool(
        await session.scalar(
            select(PostTrend.removed_at.is_not(None)).where(PostTrend.post_id == post_id)
        )
    )
