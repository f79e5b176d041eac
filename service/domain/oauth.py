"""The OAuth 2 authorization server's commands (RFC 6749, PKCE per RFC 7636, revocation
per RFC 7009): registering apps, authorization codes, tokens and their revocation.

Written by hand rather than with oauthlib or authlib: both servers call their validators
synchronously, so every database question would block the event loop or need a thread,
and what remains of the grant logic once requests are parsed is the little below.
Every secret (client secret, code, token) is random and stored as its SHA-256 only.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service import scopes
from service.models import AccessToken, OAuthApp, OAuthCode
from service.security import new_token, token_hash

# RFC 6749 §4.1.2 recommends ten minutes at most; a person at the consent page has
# already approved, so the app exchanges the code within seconds.
CODE_LIFETIME = timedelta(minutes=10)
# RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# An S256 challenge is the base64url of a SHA-256, without padding: exactly 43 characters.
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
# Compared against when a client id is unknown, so a wrong id costs what a wrong secret does.
_NO_SECRET = hashlib.sha256(b"no such client").digest()


@dataclasses.dataclass(frozen=True)
class OAuthError:
    """An error answer of RFC 6749 §5.2: ``error`` is its code, ``description`` for people."""

    error: str
    description: str
    # Hashes of tokens revoked on the way (a reused code's), for the caller to forget.
    revoked: tuple[bytes, ...] = ()


@dataclasses.dataclass(frozen=True)
class RegisteredApp:
    id: int
    client_id: str
    client_secret: str


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: str
    scopes: frozenset[str]
    created_at: datetime


async def register_app(
    session: AsyncSession,
    name: str,
    redirect_uris: list[str],
    app_scopes: frozenset[str],
    website: str | None,
) -> RegisteredApp:
    client_id, client_secret = new_token(), new_token()
    app = OAuthApp(
        client_id=client_id,
        client_secret_hash=token_hash(client_secret),
        name=name,
        website=website,
        redirect_uris=redirect_uris,
        scopes=scopes.text_of(app_scopes),
    )
    session.add(app)
    await session.flush()
    return RegisteredApp(app.id, client_id, client_secret)


async def authenticate_client(
    session: AsyncSession, client_id: str, client_secret: str
) -> OAuthApp | None:
    """The app whose credentials these are (RFC 6749 §2.3.1), or None."""
    app = await session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))
    stored = app.client_secret_hash if app is not None else _NO_SECRET
    if not hmac.compare_digest(stored, token_hash(client_secret)) or app is None:
        return None
    return app


async def issue_code(
    session: AsyncSession,
    app_id: int,
    user_id: int,
    redirect_uri: str | None,
    granted: frozenset[str],
    code_challenge: str | None,
) -> str:
    code = new_token()
    session.add(
        OAuthCode(
            code_hash=token_hash(code),
            app_id=app_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes.text_of(granted),
            code_challenge=code_challenge,
            expires_at=datetime.now(UTC) + CODE_LIFETIME,
        )
    )
    return code


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def _new_token(
    session: AsyncSession,
    granted: frozenset[str],
    *,
    app_id: int | None,
    user_id: int | None,
    name: str | None = None,
) -> tuple[int, IssuedToken]:
    token = new_token()
    row = AccessToken(
        token_hash=token_hash(token),
        app_id=app_id,
        user_id=user_id,
        name=name,
        scopes=scopes.text_of(granted),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row, ["created_at"])
    return row.id, IssuedToken(token, granted, row.created_at)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


async def exchange_code(
    session: AsyncSession,
    app: OAuthApp,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> IssuedToken | OAuthError:
    """A token for an authorization code (RFC 6749 §4.1.3), or why not. Returned rather
    than raised: a code used twice revokes the token it gave (§4.1.2), and that must
    commit with the refusal."""
    found = await session.scalar(
        select(OAuthCode).where(OAuthCode.code_hash == token_hash(code)).with_for_update()
    )
    if found is None or found.app_id != app.id:
        return _invalid_grant("The authorization code is invalid.")
    if found.used_at is not None:
        revoked = await session.scalars(
            delete(AccessToken)
            .where(AccessToken.id == found.token_id)
            .returning(AccessToken.token_hash)
        )
        return OAuthError(
            "invalid_grant", "The authorization code has already been used.", tuple(revoked)
        )
    if found.expires_at <= datetime.now(UTC):
        return _invalid_grant("The authorization code has expired.")
    if found.redirect_uri is not None and redirect_uri != found.redirect_uri:
        return _invalid_grant("The redirect_uri does not match the authorization request.")
    if found.redirect_uri is None and redirect_uri not in (None, *app.redirect_uris):
        return _invalid_grant("The redirect_uri does not match the authorization request.")
    if found.code_challenge is not None:
        if code_verifier is None or not CODE_VERIFIER.fullmatch(code_verifier):
            return _invalid_grant("A code_verifier of 43 to 128 characters is required.")
        if not hmac.compare_digest(s256(code_verifier), found.code_challenge):
            return _invalid_grant("The code_verifier does not match the code_challenge.")
    elif code_verifier is not None:
        # PKCE downgrade: whoever asked for this code sent no challenge (RFC 9700 §2.1.1).
        return _invalid_grant("The authorization request had no code_challenge.")
    granted = frozenset(found.scopes.split())
    token_id, issued = await _new_token(session, granted, app_id=app.id, user_id=found.user_id)
    found.used_at = datetime.now(UTC)
    found.token_id = token_id
    return issued


async def app_token(session: AsyncSession, app: OAuthApp, granted: frozenset[str]) -> IssuedToken:
    """An app's own token (client credentials, §4.4): no user behind it."""
    _, issued = await _new_token(session, granted, app_id=app.id, user_id=None)
    return issued


async def personal_token(
    session: AsyncSession, user_id: int, name: str, granted: frozenset[str]
) -> IssuedToken:
    _, issued = await _new_token(session, granted, app_id=None, user_id=user_id, name=name)
    return issued


async def revoke_by_client(session: AsyncSession, app_id: int, token: str) -> bool:
    """Revoke a token the app was given (RFC 7009 §2.1). False when the token exists but is
    another client's; an unknown token counts as revoked already."""
    hashed = token_hash(token)
    owner = await session.scalar(select(AccessToken.app_id).where(AccessToken.token_hash == hashed))
    if owner is None:
        found = await session.scalar(select(AccessToken.id).where(AccessToken.token_hash == hashed))
        return found is None
    if owner != app_id:
        return False
    await session.execute(delete(AccessToken).where(AccessToken.token_hash == hashed))
    return True


async def revoke_own_token(session: AsyncSession, user_id: int, token_id: int) -> list[bytes]:
    """Revoke one of the user's tokens; returns the hash of what was revoked (none if the
    token is not theirs)."""
    revoked = await session.scalars(
        delete(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.user_id == user_id)
        .returning(AccessToken.token_hash)
    )
    return list(revoked)


async def revoke_app(session: AsyncSession, user_id: int, app_id: int) -> list[bytes]:
    """Disconnect an app from the user's account: every token it holds for them (their
    hashes are returned), and any code not yet exchanged."""
    await session.execute(
        delete(OAuthCode).where(OAuthCode.app_id == app_id, OAuthCode.user_id == user_id)
    )
    revoked = await session.scalars(
        delete(AccessToken)
        .where(AccessToken.app_id == app_id, AccessToken.user_id == user_id)
        .returning(AccessToken.token_hash)
    )
    return list(revoked)


async def forget_expired_codes(session: AsyncSession) -> None:
    await session.execute(delete(OAuthCode).where(OAuthCode.expires_at < datetime.now(UTC)))
