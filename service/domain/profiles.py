"""Profile fields a user edits about themselves."""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import follows
from service.i18n import LANGUAGES
from service.i18n import gettext as _
from service.models import AUDIENCES, User
from service.text import text_error

# Lengths match the columns of the users table.
PROFILE_LIMITS = {"display_name": 50, "location": 60, "bio": 300}


def profile_errors(values: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, limit in PROFILE_LIMITS.items():
        value = values.get(name, "")
        if message := text_error(value, multiline=name == "bio", name=name == "display_name"):
            errors[name] = message
        elif len(value) > limit:
            errors[name] = _("Use at most %(count)s characters.") % {"count": limit}
    return errors


def default_audience_error(audience: str, locked: bool = False) -> str | None:
    """Why ``audience`` cannot be the default of an account (``locked``: a private one)."""
    if audience not in AUDIENCES:
        return _("Choose who your posts are for: public, unlisted or followers only.")
    if locked and audience == "public":
        return _("Your account is private: its posts are for followers only, or unlisted.")
    return None


async def set_default_audience(session: AsyncSession, user_id: int, audience: str) -> None:
    """Who the user's posts are for unless they choose otherwise as they write one; posts
    already written keep theirs. Callers check default_audience_error first, with the
    account's ``locked`` as it will be."""
    if message := default_audience_error(audience):
        raise ValueError(message)
    await session.execute(update(User).where(User.id == user_id).values(default_audience=audience))


async def set_language(session: AsyncSession, user_id: int, language: str | None) -> None:
    """The language the user reads Snapline in (a tag of i18n.LANGUAGES; the caller checks
    it is offered), or None for their browser's."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}")
    await session.execute(update(User).where(User.id == user_id).values(language=language))


async def update_profile(
    session: AsyncSession, user_id: int, *, display_name: str, location: str, bio: str
) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(display_name=display_name, location=location, bio=bio)
    )


async def set_indexable(session: AsyncSession, user_id: int, indexable: bool) -> None:
    """Whether the user's public posts appear in the post search of people who do not follow
    them (docs/discovery.md); followers find them either way, as they see them."""
    await session.execute(update(User).where(User.id == user_id).values(indexable=indexable))


async def set_locked(session: AsyncSession, user_id: int, locked: bool) -> int:
    """Make the account private (new followers ask first) or public; how many pending
    requests the switch to public approved. Followers the account has stay either way, and
    its posts keep the audience each was published with; made private, its default
    audience becomes followers only if it was public."""
    approved = 0 if locked else await follows.accept_all(session, user_id)
    values: dict = {"locked": locked}
    if locked:
        # Its new posts go to followers unless the owner chose unlisted before.
        values["default_audience"] = case(
            (User.default_audience == "public", "followers"), else_=User.default_audience
        )
    await session.execute(update(User).where(User.id == user_id).values(**values))
    return approved
