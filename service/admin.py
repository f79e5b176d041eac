"""The first admin comes from the command line: there is no one yet to grant the role."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, update

from service.db import create_engine, make_sessionmaker
from service.domain import accounts
from service.models import User
from service.security import PasswordService
from service.settings import Settings


async def create_admin(settings: Settings, username: str, email: str, password: str) -> None:
    """Create a confirmed admin account, or make an existing account with that username an
    admin. Raises ValueError with a readable message for bad input."""
    normalized, email_error = accounts.normalize_email(email)
    problem = (
        accounts.username_error(username)
        or email_error
        or accounts.password_error(password, username=username, email=email)
    )
    if problem:
        raise ValueError(problem)
    engine = create_engine(settings.database.url, pool_size=1, max_overflow=0)
    try:
        with ThreadPoolExecutor(max_workers=1) as executor:
            password_hash = await PasswordService(settings.security, executor).hash(password)
        async with make_sessionmaker(engine).begin() as db:
            existing = await accounts.user_by_login(db, username)
            if existing is not None:
                await db.execute(
                    update(User)
                    .where(User.id == existing.id)
                    .values(
                        role="admin",
                        email_confirmed_at=func.coalesce(User.email_confirmed_at, func.now()),
                    )
                )
                return
            try:
                user = await accounts.create_user(
                    db, username, normalized, password_hash, role="admin"
                )
            except accounts.DuplicateAccount as duplicate:
                raise ValueError(
                    f"that {duplicate.field} belongs to another account"
                ) from duplicate
            user.email_confirmed_at = func.now()
    finally:
        await engine.dispose()
