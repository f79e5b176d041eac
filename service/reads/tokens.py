"""Bearer tokens and the apps they were given to: what a token grants (every bearer
request asks, through reads.token_cache), an app by its client id (the consent page) or by
its id (an app's own credentials), a user's own tokens (the settings pages), and which of
the tokens of open streams still grant anything (the live hub)."""

from __future__ import annotations

from collections.abc import Collection

from service import scopes
from service.reads.statements import Reader, register
from service.reads.views import OAuthAppView, OwnToken, SessionUser, TokenGrant
from service.reads.visibility import person_visible

# The token whose SHA-256 is $1, and its user unless it is an app's own; a suspended
# user's tokens grant nothing.
TOKEN_GRANT = register(
    "token_grant",
    f"""
    SELECT t.id, t.app_id, t.scopes, u.id AS user_id, u.username, u.display_name, u.email,
           u.role, u.email_confirmed_at IS NOT NULL AS is_confirmed, u.default_audience,
           u.locked, u.language
      FROM access_tokens t LEFT JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND (t.user_id IS NULL OR {person_visible("u")})
    """,
)


async def token_grant(reader: Reader, token_hash: bytes) -> TokenGrant | None:
    row = await reader.row(TOKEN_GRANT, token_hash)
    if row is None:
        return None
    token_id, app_id, scope_text, user_id, *user = row
    user_view = SessionUser(user_id, *user) if user_id is not None else None
    return TokenGrant(token_id, app_id, user_view, frozenset(scope_text.split()))


# Of the token hashes $1, those that still grant something: not revoked, and not of a
# suspended user. The live hub asks it of its open streams' tokens.
LIVE_TOKENS = register(
    "live_tokens",
    f"""
    SELECT t.token_hash
      FROM access_tokens t LEFT JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = ANY($1::bytea[]) AND (t.user_id IS NULL OR {person_visible("u")})
    """,
)


async def live_tokens(reader: Reader, token_hashes: Collection[bytes]) -> set[bytes]:
    if not token_hashes:
        return set()
    return {bytes(row[0]) for row in await reader.rows(LIVE_TOKENS, list(token_hashes))}


def _app_view(row) -> OAuthAppView:
    app_id, client_id, name, website, redirect_uris, scope_text = row
    return OAuthAppView(
        app_id, client_id, name, website, tuple(redirect_uris), scopes.parse(scope_text)
    )


_APP_COLUMNS = "a.id, a.client_id, a.name, a.website, a.redirect_uris, a.scopes"
OAUTH_APP = register("oauth_app", f"SELECT {_APP_COLUMNS} FROM oauth_apps a WHERE a.client_id = $1")
OAUTH_APP_BY_ID = register(
    "oauth_app_by_id", f"SELECT {_APP_COLUMNS} FROM oauth_apps a WHERE a.id = $1"
)


async def app_by_client_id(reader: Reader, client_id: str) -> OAuthAppView | None:
    row = await reader.row(OAUTH_APP, client_id)
    return _app_view(row) if row is not None else None


async def app_by_id(reader: Reader, app_id: int) -> OAuthAppView | None:
    row = await reader.row(OAUTH_APP_BY_ID, app_id)
    return _app_view(row) if row is not None else None


# Every token of user $1, apps' and personal, newest first. A person has a few: no paging.
OWN_TOKENS = register(
    "own_tokens",
    """
    SELECT t.id, t.app_id, a.name AS app_name, a.website, t.name, t.scopes, t.created_at
      FROM access_tokens t LEFT JOIN oauth_apps a ON a.id = t.app_id
     WHERE t.user_id = $1
     ORDER BY t.created_at DESC, t.id DESC
    """,
)


async def own_tokens(reader: Reader, user_id: int) -> list[OwnToken]:
    rows = await reader.rows(OWN_TOKENS, user_id)
    return [
        OwnToken(
            row["id"], row["app_id"], row["app_name"], row["website"], row["name"],
            frozenset(row["scopes"].split()), row["created_at"],
        )
        for row in rows
    ]  # fmt: skip
