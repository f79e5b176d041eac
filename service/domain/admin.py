"""What admins see and change: the list of users and their roles."""

from __future__ import annotations

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.cursor import Position
from service.domain.accounts import USERNAME_PATTERN
from service.models import ROLES, User


async def users_page(session: AsyncSession, after: Position | None, limit: int) -> list[User]:
    """Newest accounts first, ``limit + 1`` at most."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)
    if after is not None:
        query = query.where(tuple_(User.created_at, User.id) < tuple_(after.at, after.id))
    return list(await session.scalars(query))


async def set_role(session: AsyncSession, username: str, role: str) -> bool:
    if role not in ROLES:
        raise ValueError(role)
    if not USERNAME_PATTERN.match(username):
        return False
    changed = await session.scalar(
        update(User)
        .where(func.lower(User.username) == username.lower())
        .values(role=role)
        .returning(User.id)
    )
    return changed is not None
