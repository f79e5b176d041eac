"""Server-side records of signed-in browsers, so that logging out really ends a session."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import LargeBinary, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import AuthSession
from service.security import new_token, token_hash


async def start_session(session: AsyncSession, user_id: int, max_age: timedelta) -> str:
    """Record a new signed-in browser; returns the secret id for its cookie."""
    secret = new_token()
    session.add(
        AuthSession(
            id_hash=token_hash(secret), user_id=user_id, expires_at=datetime.now(UTC) + max_age
        )
    )
    return secret


async def end_session(session: AsyncSession, secret: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.id_hash == token_hash(secret)))


async def end_other_sessions(session: AsyncSession, user_id: int, keep_secret: str | None) -> None:
    """Log the user out everywhere except (optionally) the browser they are using."""
    statement = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep_secret is not None:
        statement = statement.where(AuthSession.id_hash != token_hash(keep_secret))
    await session.execute(statement)


async def live_sessions(session: AsyncSession, id_hashes: Collection[bytes]) -> set[bytes]:
    """Which of these sessions (by the hash stored for them) are still signed in."""
    # One array parameter, not one parameter per session: a process may hold more open
    # streams than a statement may have parameters.
    hashes = bindparam("hashes", list(id_hashes), type_=ARRAY(LargeBinary))
    rows = await session.scalars(
        select(AuthSession.id_hash).where(
            AuthSession.id_hash == any_(hashes), AuthSession.expires_at > datetime.now(UTC)
        )
    )
    return set(rows)


async def forget_expired_sessions(session: AsyncSession) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.expires_at < datetime.now(UTC)))
