"""Accounts: validation, sign-up, email tokens, confirmation and passwords."""

from __future__ import annotations

import gzip
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.models import USERNAME_PATTERN, AuthSession, EmailToken, RetiredUsername, User
from service.security import new_token, token_hash

MIN_PASSWORD_CHARS = 8
# Long enough for any passphrase or manager; short enough that hashing cannot be abused.
MAX_PASSWORD_CHARS = 1024
MAX_EMAIL_CHARS = 254
CONFIRM_TOKEN_TTL = timedelta(hours=48)
RESET_TOKEN_TTL = timedelta(hours=1)
# Lowercased, 8 characters and longer; where it comes from: common-passwords.NOTICE beside it.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
COMMON_PASSWORD = lazy_gettext(
    "That password is one of the most common ones: choose one that is harder to guess."
)
PERSONAL_PASSWORD = lazy_gettext("Choose a password that is not your username or email address.")


def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines)


# Read once at import (about 16,000 words, 5 ms): a lookup on the request path is a set probe.
COMMON_PASSWORDS = _common_passwords()


class DuplicateAccount(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def username_error(username: str) -> str | None:
    # fullmatch: "$" would also match before a final newline.
    if not USERNAME_PATTERN.fullmatch(username):
        return _("3 to 30 characters: letters, digits and underscores.")
    return None


def normalize_email(email: str) -> tuple[str | None, str | None]:
    """(normalized address, None) or (None, error message)."""
    if len(email) > MAX_EMAIL_CHARS:
        return None, _("That email address is too long.")
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return None, _("Enter a valid email address.")
    return result.normalized, None


def password_error(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why ``password`` cannot be used by the account with ``username`` and ``email``
    (OWASP ASVS V6: length, not among the most common, not the account's own names)."""
    if len(password) < MIN_PASSWORD_CHARS:
        return _("Use at least %(count)s characters.") % {"count": MIN_PASSWORD_CHARS}
    if len(password) > MAX_PASSWORD_CHARS:
        return _("Use at most %(count)s characters.") % {"count": MAX_PASSWORD_CHARS}
    if password.strip().lower() in COMMON_PASSWORDS:
        return str(COMMON_PASSWORD)
    own_names = {username, email, email.partition("@")[0]} - {""}
    if normalize_login(password) in {normalize_login(name) for name in own_names}:
        return str(PERSONAL_PASSWORD)
    return None


async def taken_fields(session: AsyncSession, username: str, email: str) -> set[str]:
    """Which of the two an account has already; a username is taken too when it belonged
    to a deleted account (retired_usernames; a trigger on users refuses it as well)."""
    retired = await session.scalar(
        select(RetiredUsername.username_lower).where(
            RetiredUsername.username_lower == username.lower()
        )
    )
    rows = await session.execute(
        select(
            func.lower(User.username) == username.lower(), func.lower(User.email) == email.lower()
        ).where(
            or_(
                func.lower(User.username) == username.lower(),
                func.lower(User.email) == email.lower(),
            )
        )
    )
    taken: set[str] = {"username"} if retired is not None else set()
    for same_username, same_email in rows:
        if same_username:
            taken.add("username")
        if same_email:
            taken.add("email")
    return taken


async def create_user(
    session: AsyncSession, username: str, email: str, password_hash: str, role: str = "user"
) -> User:
    """Insert a user. Raises DuplicateAccount(field) if the name or address is taken, also
    when two sign-ups race (the unique indexes decide)."""
    taken = await taken_fields(session, username, email)
    if taken:
        raise DuplicateAccount("username" if "username" in taken else "email")
    user = User(username=username, email=email, password_hash=password_hash, role=role)
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as error:
        field = "email" if "email" in str(error.orig) else "username"
        raise DuplicateAccount(field) from error
    return user


def normalize_login(login: str) -> str:
    """One spelling for every way of typing the same login: width, case and surrounding
    whitespace do not matter (lookups compare case-insensitively too)."""
    return unicodedata.normalize("NFKC", login).strip().casefold()


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    """Username or email, case-insensitive."""
    column = User.email if "@" in login else User.username
    return await session.scalar(select(User).where(func.lower(column) == login.lower()))


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def issue_token(session: AsyncSession, user_id: int, purpose: str) -> str:
    ttl = CONFIRM_TOKEN_TTL if purpose == "confirm" else RESET_TOKEN_TTL
    token = new_token()
    session.add(
        EmailToken(
            token_hash=token_hash(token),
            user_id=user_id,
            purpose=purpose,
            expires_at=datetime.now(UTC) + ttl,
        )
    )
    return token


def _valid_token(token: str, purpose: str):
    return (
        EmailToken.token_hash == token_hash(token),
        EmailToken.purpose == purpose,
        EmailToken.used_at.is_(None),
        EmailToken.expires_at > func.now(),
    )


async def token_user(session: AsyncSession, token: str, purpose: str) -> User | None:
    """The user a still-valid token belongs to, without using the token up."""
    query = select(User).join(EmailToken, EmailToken.user_id == User.id)
    return await session.scalar(query.where(*_valid_token(token, purpose)))


async def use_token(session: AsyncSession, token: str, purpose: str) -> int | None:
    """Mark the token used and return its user id; None if unknown, used or expired. A single
    UPDATE, so two clicks racing cannot both succeed."""
    statement = (
        update(EmailToken)
        .where(*_valid_token(token, purpose))
        .values(used_at=func.now())
        .returning(EmailToken.user_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def confirm_email(session: AsyncSession, token: str) -> User | None:
    user_id = await use_token(session, token, "confirm")
    if user_id is None:
        return None
    await session.execute(
        update(User)
        .where(User.id == user_id, User.email_confirmed_at.is_(None))
        .values(email_confirmed_at=func.now())
    )
    return await session.get(User, user_id, populate_existing=True)


async def password_hash_of(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(User.password_hash).where(User.id == user_id))


async def store_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


async def change_password(session: AsyncSession, user_id: int, password_hash: str) -> None:
    """Store a new hash and void every outstanding reset link of the user. Ending the
    user's other sessions is the caller's part (it knows which one to keep)."""
    await store_password_hash(session, user_id, password_hash)
    await session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user_id,
            EmailToken.purpose == "reset",
            EmailToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )


async def reset_password(session: AsyncSession, token: str, password_hash: str) -> int | None:
    """Use a reset token to set a new password; the user id, or None for a bad token. The
    link reached the inbox, so the address is confirmed too."""
    user_id = await use_token(session, token, "reset")
    if user_id is None:
        return None
    await change_password(session, user_id, password_hash)
    await session.execute(
        update(User)
        .where(User.id == user_id, User.email_confirmed_at.is_(None))
        .values(email_confirmed_at=func.now())
    )
    return user_id


async def set_role(session: AsyncSession, user_id: int, role: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(role=role))


async def suspend(session: AsyncSession, user_id: int, reason: str = "") -> datetime | None:
    """Suspend the account and end its sessions (their live streams close with them); when
    it was suspended already, since when, and nothing changes but the reason, when one is
    given. ``reason`` is shown to the account's owner when they try to log in."""
    since = await session.scalar(
        select(User.suspended_at).where(User.id == user_id).with_for_update()
    )
    if since is not None:
        if reason:
            await session.execute(
                update(User).where(User.id == user_id).values(suspension_reason=reason)
            )
        return since
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(suspended_at=func.now(), suspension_reason=reason or None)
    )
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    return None


async def unsuspend(session: AsyncSession, user_id: int) -> bool:
    """Lift the suspension; False when the account was not suspended."""
    lifted = await session.scalar(
        update(User)
        .where(User.id == user_id, User.suspended_at.is_not(None))
        .values(suspended_at=None, suspension_reason=None)
        .returning(User.id)
    )
    return lifted is not None


async def forget_expired_tokens(session: AsyncSession) -> None:
    await session.execute(delete(EmailToken).where(EmailToken.expires_at < func.now()))
