"""Registration control (docs/moderation.md): the instance's settings and rules, the
applications an admin approves or rejects, and invites."""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import (
    REGISTRATION_MODES,
    USERNAME_PATTERN,
    AccountApplication,
    InstanceRule,
    InstanceSettings,
    Invite,
    User,
)
from service.reads.instance import invite_usable

# At most this many rules: a newcomer reads them all before signing up.
MAX_RULES = 30
# 9 random bytes, 12 characters: not guessable, short enough to read out.
INVITE_CODE_BYTES = 9
# Codes as invite links carry them; anything else is nobody's invite.
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")
# Admins hear of new applications at most once in this long.
ADMIN_MAIL_INTERVAL = timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class SiteSettings:
    registration_mode: str
    invites_by_users: bool
    name: str
    description: str
    contact_email: str


async def save_settings(session: AsyncSession, settings: SiteSettings) -> None:
    """Write the instance's one row, the first time or again."""
    if settings.registration_mode not in REGISTRATION_MODES:
        raise ValueError(settings.registration_mode)
    values = {**dataclasses.asdict(settings), "updated_at": func.now()}
    await session.execute(
        insert(InstanceSettings)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=[InstanceSettings.id], set_=values)
    )


async def _rule_ids(session: AsyncSession) -> list[int]:
    """Every rule's id in order, each row locked: two admins editing at once take turns."""
    rows = await session.scalars(
        select(InstanceRule.id).order_by(InstanceRule.position, InstanceRule.id).with_for_update()
    )
    return list(rows)


async def add_rule(session: AsyncSession, rule_text: str) -> int | None:
    """Add a rule at the end; its id, or None when there are MAX_RULES already."""
    ids = await _rule_ids(session)
    if len(ids) >= MAX_RULES:
        return None
    rule = InstanceRule(position=len(ids), text=rule_text)
    session.add(rule)
    await session.flush()
    return rule.id


async def edit_rule(session: AsyncSession, rule_id: int, rule_text: str) -> bool:
    changed = await session.scalar(
        update(InstanceRule)
        .where(InstanceRule.id == rule_id)
        .values(text=rule_text)
        .returning(InstanceRule.id)
    )
    return changed is not None


async def delete_rule(session: AsyncSession, rule_id: int) -> bool:
    deleted = await session.scalar(
        delete(InstanceRule).where(InstanceRule.id == rule_id).returning(InstanceRule.id)
    )
    return deleted is not None


async def move_rule(session: AsyncSession, rule_id: int, step: int) -> bool:
    """Move a rule ``step`` places (-1: up, 1: down); False when there is no such rule. A
    rule already first or last stays where it is."""
    ids = await _rule_ids(session)
    if rule_id not in ids:
        return False
    at = ids.index(rule_id)
    to = min(max(at + step, 0), len(ids) - 1)
    ids.insert(to, ids.pop(at))
    for position, each in enumerate(ids):
        await session.execute(
            update(InstanceRule).where(InstanceRule.id == each).values(position=position)
        )
    return True


@dataclasses.dataclass(frozen=True)
class AdminsToTell:
    """Whom to mail of a new application (each admin's address and the language they
    chose, None for none), and how many are waiting with it."""

    recipients: list[tuple[str, str | None]]
    waiting: int


async def apply(session: AsyncSession, user_id: int, reason: str) -> AdminsToTell | None:
    """Put a new account in the admins' queue: until approved it cannot log in. The admins
    to mail of it (confirmed addresses of admins who are not suspended), or None when an
    earlier application already told them within ``ADMIN_MAIL_INTERVAL``: a wave of
    sign-ups mails each admin once an interval, not once an applicant."""
    told_recently = await session.scalar(
        select(func.count()).where(AccountApplication.created_at > func.now() - ADMIN_MAIL_INTERVAL)
    )
    session.add(AccountApplication(user_id=user_id, reason=reason))
    await session.flush()
    if told_recently:
        return None
    recipients = await session.execute(
        select(User.email, User.language)
        .where(
            User.role == "admin",
            User.email_confirmed_at.is_not(None),
            User.suspended_at.is_(None),
            User.deletion_due_at.is_(None),
        )
        .order_by(User.id)
    )
    waiting = await session.scalar(select(func.count()).select_from(AccountApplication))
    return AdminsToTell([(row.email, row.language) for row in recipients], waiting or 0)


async def awaiting_approval(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(AccountApplication.user_id).where(AccountApplication.user_id == user_id)
    )
    return found is not None


async def _applicant(session: AsyncSession, username: str) -> User | None:
    """The account named ``username`` if it awaits approval, locked with its application."""
    if not USERNAME_PATTERN.fullmatch(username):
        return None
    return await session.scalar(
        select(User)
        .join(AccountApplication, AccountApplication.user_id == User.id)
        .where(func.lower(User.username) == username.lower())
        .with_for_update()
    )


async def approve(session: AsyncSession, username: str) -> User | None:
    """Let the applicant in; the account, or None when no application goes by that name
    (decided already, or never made)."""
    user = await _applicant(session, username)
    if user is not None:
        await session.execute(
            delete(AccountApplication).where(AccountApplication.user_id == user.id)
        )
    return user


async def reject(session: AsyncSession, username: str) -> User | None:
    """Turn the applicant away: the account goes, with everything of it (it could make
    nothing while it waited), so its name and address are free again. The account as it
    was, to tell its owner, or None when no application goes by that name."""
    user = await _applicant(session, username)
    if user is not None:
        await session.execute(delete(User).where(User.id == user.id))
    return user


def new_invite_code() -> str:
    return secrets.token_urlsafe(INVITE_CODE_BYTES)


async def create_invite(
    session: AsyncSession, creator_id: int, max_uses: int | None, lasts: timedelta | None
) -> str:
    """A new invite of the creator's; its code."""
    code = new_invite_code()
    expires_at = datetime.now(UTC) + lasts if lasts is not None else None
    session.add(Invite(code=code, creator_id=creator_id, max_uses=max_uses, expires_at=expires_at))
    await session.flush()
    return code


async def revoke_invite(session: AsyncSession, creator_id: int, invite_id: int) -> bool:
    """Delete one of the creator's invites: its link stops working at once."""
    deleted = await session.scalar(
        delete(Invite)
        .where(Invite.id == invite_id, Invite.creator_id == creator_id)
        .returning(Invite.id)
    )
    return deleted is not None


# One UPDATE takes a use only from an invite that may still be used, so two sign-ups racing
# for an invite's last use cannot both have it.
_USE_INVITE = text(
    f"""
    UPDATE invites i SET uses = i.uses + 1
      FROM users u
     WHERE i.code = :code AND u.id = i.creator_id AND {invite_usable("i", "u")}
    RETURNING i.id
    """
)


async def use_invite(session: AsyncSession, code: str) -> bool:
    """Take one use of the invite; False when it is unknown, expired, used up or its
    creator may no longer invite. In the sign-up's transaction: a sign-up that fails gives
    the use back."""
    if not INVITE_CODE.fullmatch(code):
        return False
    return (await session.execute(_USE_INVITE, {"code": code})).scalar_one_or_none() is not None
