"""The instance as its admins set it (docs/moderation.md): its settings and rules, its
admins, the applications waiting for them, and invites."""

from __future__ import annotations

from service.cursor import Position
from service.models import (
    DEFAULT_INSTANCE_DESCRIPTION,
    DEFAULT_INSTANCE_NAME,
    DEFAULT_REGISTRATION_MODE,
)
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.people import avatar_key
from service.reads.statements import Reader, register, register_paged
from service.reads.views import (
    ApplicationView,
    InstanceView,
    InviteView,
    Page,
    RuleView,
    UserSummary,
)
from service.reads.visibility import person_visible, person_visible_to

# The one row of settings (NULLs while an admin has saved none) with every rule, in order:
# one round trip for the sign-up page, /about and the instance API alike. Read afresh on
# each request, so a change shows at once in every process.
INSTANCE = register(
    "instance",
    """
    SELECT s.registration_mode, s.invites_by_users, s.name, s.description, s.contact_email,
           ARRAY(SELECT r.id FROM instance_rules r ORDER BY r.position, r.id) AS rule_ids,
           ARRAY(SELECT r.text FROM instance_rules r ORDER BY r.position, r.id) AS rule_texts
      FROM (SELECT) AS one LEFT JOIN instance_settings s ON s.id = 1
    """,
)
DEFAULT_SETTINGS = (
    DEFAULT_REGISTRATION_MODE,
    False,
    DEFAULT_INSTANCE_NAME,
    DEFAULT_INSTANCE_DESCRIPTION,
    "",
)


async def instance(reader: Reader) -> InstanceView:
    row = await reader.row(INSTANCE)
    rules = tuple(RuleView(*rule) for rule in zip(row["rule_ids"], row["rule_texts"], strict=True))
    settings = DEFAULT_SETTINGS if row["registration_mode"] is None else tuple(row[:5])
    return InstanceView(*settings, rules=rules)


# How many admins /about lists: the people to contact, not a directory.
MAX_LISTED_ADMINS = 50

# The admins viewer $1 may see in a list of people, newest accounts first.
INSTANCE_ADMINS = register(
    "instance_admins",
    f"""
    SELECT u.id, u.username, u.display_name, {avatar_key("u.id")} AS avatar
      FROM users u
     WHERE u.role = 'admin' AND {person_visible("u")} AND {person_visible_to("u", "$1")}
     ORDER BY u.id DESC
     LIMIT {MAX_LISTED_ADMINS}
    """,
)


async def admins(reader: Reader, viewer_id: int | None) -> list[UserSummary]:
    return [UserSummary.of(*row) for row in await reader.rows(INSTANCE_ADMINS, viewer_id)]


# The applications waiting for an admin, newest first (as the list of accounts): every one,
# as the admins' own list.
APPLICATIONS = register_paged(
    "applications",
    lambda rows: (
        f"""
    SELECT u.id, u.username, u.email, u.email_confirmed_at IS NOT NULL AS is_confirmed,
           a.reason, a.created_at
      FROM account_applications a JOIN users u ON u.id = a.user_id
     WHERE (a.created_at, a.user_id) < ($1, $2)
     ORDER BY a.created_at DESC, a.user_id DESC
     LIMIT {rows}
    """
    ),
)


async def applications(reader: Reader, after: Position | None, limit: int) -> Page[ApplicationView]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(APPLICATIONS.rows(limit + 1), start.at, start.id)
    return page_of([ApplicationView(*row) for row in rows], limit)


def invite_usable(invite: str, creator: str) -> str:
    """A condition, true when the invite under the alias ``invite``, made by the user under
    the alias ``creator``, may be used now: not expired, not used up, and its creator still
    may invite (not suspended; an admin, or anyone while the instance lets people invite).
    The sign-up command uses the same condition to take a use (domain/registration.py)."""
    return (
        f"(({invite}.expires_at IS NULL OR {invite}.expires_at > now())"
        f" AND ({invite}.max_uses IS NULL OR {invite}.uses < {invite}.max_uses)"
        f" AND {person_visible(creator)}"
        f" AND ({creator}.role = 'admin'"
        " OR (SELECT s.invites_by_users FROM instance_settings s WHERE s.id = 1)))"
    )


# Whether the invite with code $1 may be used now.
USABLE_INVITE = register(
    "usable_invite",
    f"""
    SELECT i.id FROM invites i JOIN users u ON u.id = i.creator_id
     WHERE i.code = $1 AND {invite_usable("i", "u")}
    """,
)


async def usable_invite(reader: Reader, code: str) -> bool:
    return await reader.value(USABLE_INVITE, code) is not None


# How many of one's invites the settings page lists, newest first.
MAX_LISTED_INVITES = 100

# The invites user $1 made, newest first.
OWN_INVITES = register(
    "own_invites",
    f"""
    SELECT i.id, i.code, i.max_uses, i.uses, i.expires_at, i.created_at,
           coalesce(i.expires_at <= now(), false) AS expired
      FROM invites i
     WHERE i.creator_id = $1
     ORDER BY i.created_at DESC, i.id DESC
     LIMIT {MAX_LISTED_INVITES}
    """,
)


async def own_invites(reader: Reader, user_id: int) -> list[InviteView]:
    return [InviteView(*row) for row in await reader.rows(OWN_INVITES, user_id)]
