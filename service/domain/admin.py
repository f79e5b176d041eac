"""What admins see and change: the list of users and their roles."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ROLES, USERNAME_PATTERN, User


async def set_role(session: AsyncSession, username: str, role: str) -> bool:
    if role not in ROLES:
        raise ValueError(role)
    if not USERNAME_PATTERN.fullmatch(username):
        return False
    changed = await session.scalar(
        update(User)
        .where(func.lower(User.username) == username.lower())
        .values(role=role)
        .returning(User.id)
    )
    return changed is not None
