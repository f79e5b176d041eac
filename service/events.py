"""Events announced through PostgreSQL NOTIFY, so every process (and every open live
stream in any of them) hears about them. Sent inside the transaction that makes the change:
PostgreSQL delivers a notification only when that transaction commits, so listeners never
hear of a post that then rolled back."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "snapline_events"
# Sent by the database itself (a trigger on auth_sessions, migration 0005) when a session
# that was still valid is deleted: logout, a password change or reset, a deleted account.
SESSION_ENDED = "session_ended"
# Sent by a trigger on users (migration 0008) when what a SessionUser holds changes.
USER_CHANGED = "user_changed"
# Sent by a trigger on access_tokens (migration 0010) when a token is deleted: revoked.
TOKEN_REVOKED = "token_revoked"


async def announce(session: AsyncSession, event: dict[str, Any]) -> None:
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CHANNEL, "payload": json.dumps(event, separators=(",", ":"))},
    )


def post_published(post_id: int, author_id: int) -> dict[str, Any]:
    return {"type": "post", "post_id": post_id, "author_id": author_id}


def post_failed(post_id: int, author_id: int) -> dict[str, Any]:
    """A post whose photos could not be processed: news for its author alone."""
    return {"type": "post_failed", "post_id": post_id, "author_id": author_id}


def post_deleted(post_id: int, author_id: int, status_id: int) -> dict[str, Any]:
    """A published post was deleted: apps showing it drop it by its status id."""
    return {
        "type": "post_deleted",
        "post_id": post_id,
        "author_id": author_id,
        "status_id": status_id,
    }


def notification_for(user_id: int, notification_id: int | None = None) -> dict[str, Any]:
    """The user's notifications changed: one was made (``notification_id``, which apps are
    sent), or some were read, dismissed or cleared (the pages' badges count again)."""
    event: dict[str, Any] = {"type": "notification", "user_id": user_id}
    if notification_id is not None:
        event["notification_id"] = notification_id
    return event
