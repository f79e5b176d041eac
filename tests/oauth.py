"""Helpers that play an OAuth client (RFC 6749) and the person who consents, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient

from tests.support import csrf_for

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_ON_PAGE = re.compile(r"data-code>([^<]+)<")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


async def register_app(
    client: TestClient,
    redirect_uris: str = OOB,
    scopes: str = "read write follow",
    name: str = "Test app",
) -> dict:
    response = await client.post(
        "/api/v1/apps",
        data={"client_name": name, "redirect_uris": redirect_uris, "scopes": scopes},
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def consent(
    client: TestClient, query: dict[str, str], decision: str = "approve"
) -> tuple[int, str, str]:
    """Open the consent page as the signed-in person and answer it: (status, Location,
    page text) of the answer."""
    page = await client.get("/oauth/authorize", params=query, allow_redirects=False)
    assert page.status == 200, await page.text()
    fields = {name: unescape(value) for name, value in HIDDEN.findall(await page.text())}
    fields["decision"] = decision
    answer = await client.post("/oauth/authorize", data=fields, allow_redirects=False)
    return answer.status, answer.headers.get("Location", ""), await answer.text()


def code_from(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def code_on_page(text: str) -> str:
    match = CODE_ON_PAGE.search(text)
    assert match, "no code on the page"
    return match.group(1)


async def authorize(
    client: TestClient,
    app: dict,
    scope: str = "read write follow",
    redirect_uri: str = OOB,
    challenge: str | None = None,
) -> str:
    """The code of an approved authorization request."""
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": scope,
    }
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    status, location, text = await consent(client, query)
    if redirect_uri == OOB:
        assert status == 200, text
        return code_on_page(text)
    assert status == 303, text
    return code_from(location)


async def exchange(client: TestClient, app: dict, code: str, **extra: str):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": OOB,
        **extra,
    }
    return await client.post("/oauth/token", data=form)


async def user_token(client: TestClient, scope: str = "read write follow") -> str:
    """A token for the signed-in person, through the whole code flow with PKCE."""
    app = await register_app(client, scopes=scope)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, scope=scope, challenge=challenge)
    response = await exchange(client, app, code, code_verifier=verifier)
    assert response.status == 200, await response.text()
    return (await response.json())["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def personal_token(client: TestClient, name: str, scopes: list[str]) -> tuple[int, str]:
    """Create a personal access token on the settings page: (status, page)."""
    token = await csrf_for(client, "/settings/tokens")
    form = [("csrf_token", token), ("name", name), *(("scopes", scope) for scope in scopes)]
    response = await client.post("/settings/tokens", data=form, allow_redirects=False)
    return response.status, await response.text()


NEW_TOKEN = re.compile(r"data-new-token>([^<]+)<")
