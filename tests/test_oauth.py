"""The OAuth 2 authorization server against RFC 6749 and RFC 7636: registration, the
consent page, the code flow with PKCE, client credentials, revocation, and every error a
client may meet."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import text

from tests.oauth import (
    OOB,
    authorize,
    bearer,
    code_from,
    consent,
    exchange,
    pkce_pair,
    register_app,
)
from tests.support import submit


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """HTTP Basic as RFC 6749 §2.3.1 has it: each part form-encoded first."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def test_registering_an_app_answers_mastodons_application(client):
    response = await client.post(
        "/api/v1/apps",
        json={
            "client_name": "Pocket app",
            "redirect_uris": ["com.example.pocket://oauth", OOB],
            "scopes": "read write:media",
            "website": "https://pocket.example",
        },
    )
    assert response.status == 200
    app = await response.json()
    assert app["name"] == "Pocket app"
    assert app["redirect_uris"] == ["com.example.pocket://oauth", OOB]
    assert app["redirect_uri"] == f"com.example.pocket://oauth\n{OOB}"
    assert app["scopes"] == ["read", "write:media"]
    assert app["website"] == "https://pocket.example"
    assert len(app["client_id"]) >= 32 and len(app["client_secret"]) >= 32
    assert isinstance(app["id"], str)


async def test_registration_refuses_what_cannot_be_a_redirect_or_a_scope(client, db):
    async with db() as session:
        before = await session.scalar(text("SELECT count(*) FROM oauth_apps"))
    refused = [
        {"client_name": "", "redirect_uris": OOB},
        {"client_name": "x", "redirect_uris": "https://app.example/cb#fragment"},
        {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "x", "redirect_uris": "/relative/path"},
        {"client_name": "x", "redirect_uris": OOB, "scopes": "read admin:everything"},
    ]
    for form in refused:
        response = await client.post("/api/v1/apps", data=form)
        assert response.status == 422, form
        assert (await response.json())["error"].startswith("Validation failed")
    async with db() as session:
        assert await session.scalar(text("SELECT count(*) FROM oauth_apps")) == before


async def test_the_code_flow_with_pkce_gives_a_token_for_the_consenting_person(
    client, factory, login
):
    account = await factory.user()
    await factory.post(account, "my own words")
    await login(client, account)
    app = await register_app(client, redirect_uris="https://app.example/callback?keep=1")
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": "https://app.example/callback?keep=1",
        "scope": "read write",
        "state": "xyz 123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await client.get("/oauth/authorize", params=query)
    shown = await page.text()
    assert "Test app" in shown and f"@{account.username}" in shown and "read:" not in shown
    # The form may send the browser on to the app, and nowhere else.
    assert "form-action 'self' https://app.example;" in page.headers["Content-Security-Policy"]
    status, location, _ = await consent(client, query)
    assert status == 303
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "app.example", "/callback")
    query_back = parse_qs(parts.query)
    assert query_back["keep"] == ["1"] and query_back["state"] == ["xyz 123"]

    form = {"redirect_uri": "https://app.example/callback?keep=1"}
    wrong = await exchange(client, app, code_from(location), code_verifier="a" * 43, **form)
    assert wrong.status == 400 and (await wrong.json())["error"] == "invalid_grant"
    missing = await exchange(client, app, code_from(location), **form)
    assert (await missing.json())["error"] == "invalid_grant"
    answer = await exchange(client, app, code_from(location), code_verifier=verifier, **form)
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-store"
    issued = await answer.json()
    assert issued["token_type"] == "Bearer" and issued["scope"] == "read write"
    timeline = await client.get("/api/snapline/v1/timeline", headers=bearer(issued["access_token"]))
    assert [post["body"] for post in (await timeline.json())["items"]] == ["my own words"]

    # A code used twice is refused, and the token it gave is revoked (RFC 6749 §4.1.2).
    again = await exchange(client, app, code_from(location), code_verifier=verifier, **form)
    assert again.status == 400 and (await again.json())["error"] == "invalid_grant"
    after = await client.get("/api/snapline/v1/timeline", headers=bearer(issued["access_token"]))
    assert after.status == 401
    assert await after.json() == {"error": "The access token is invalid"}


async def test_token_requests_are_refused_as_rfc_6749_says(client, factory, login, db):
    await login(client, await factory.user())
    app = await register_app(client, redirect_uris=f"https://app.example/cb {OOB}")
    other = await register_app(client)

    async def error_of(response) -> tuple[int, str]:
        return response.status, (await response.json())["error"]

    # A redirect_uri other than the authorization request's.
    code = await authorize(client, app)
    mismatch = await exchange(client, app, code, redirect_uri="https://app.example/cb")
    assert await error_of(mismatch) == (400, "invalid_grant")
    # Another client's code.
    code = await authorize(client, app)
    assert await error_of(await exchange(client, other, code)) == (400, "invalid_grant")
    # A wrong secret, in the body and with HTTP Basic.
    code = await authorize(client, app)
    wrong = await exchange(client, {**app, "client_secret": "guess"}, code)
    assert await error_of(wrong) == (401, "invalid_client")
    basic = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": OOB},
        headers=basic_auth(app["client_id"], "guess"),
    )
    assert await error_of(basic) == (401, "invalid_client")
    assert basic.headers["WWW-Authenticate"].startswith("Basic")
    # The right secret with Basic works, and the code was not spent by the failures.
    good = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": OOB},
        headers=basic_auth(app["client_id"], app["client_secret"]),
    )
    assert good.status == 200
    # An expired code.
    code = await authorize(client, app)
    async with db.begin() as session:
        await session.execute(
            text("UPDATE oauth_codes SET expires_at = now() - interval '1 second'")
        )
    assert await error_of(await exchange(client, app, code)) == (400, "invalid_grant")
    # A verifier for a code asked for without a challenge (a PKCE downgrade).
    code = await authorize(client, app)
    verifier, _ = pkce_pair()
    downgrade = await exchange(client, app, code, code_verifier=verifier)
    assert await error_of(downgrade) == (400, "invalid_grant")
    # An unknown code, an unknown grant type, and no client at all.
    assert await error_of(await exchange(client, app, "no-such-code")) == (400, "invalid_grant")
    password = await client.post(
        "/oauth/token",
        data={**{k: app[k] for k in ("client_id", "client_secret")}, "grant_type": "password"},
    )
    assert await error_of(password) == (400, "unsupported_grant_type")
    anonymous = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert await error_of(anonymous) == (401, "invalid_client")


async def test_the_consent_page_never_redirects_to_an_unchecked_place(client, factory, login):
    app = await register_app(client, redirect_uris="https://app.example/cb")
    base = {"response_type": "code", "client_id": app["client_id"], "state": "s1"}
    # Anonymous: to the login form first, coming back here afterwards.
    anonymous = await client.get("/oauth/authorize", params=base, allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login?next=")
    await login(client, await factory.user())
    for query in (
        {**base, "client_id": "unknown"},
        {**base, "redirect_uri": "https://evil.example/cb"},
    ):
        page = await client.get("/oauth/authorize", params=query, allow_redirects=False)
        assert page.status == 400, query
        assert "evil.example" not in page.headers.get("Location", "")
    # Errors about a known client and its own redirect URI go back to it, with the state.
    for query, error in (
        ({**base, "scope": "read admin:all"}, "invalid_scope"),
        ({**base, "scope": "push"}, "invalid_scope"),  # not registered by the app
        ({**base, "response_type": "token"}, "unsupported_response_type"),
        ({**base, "code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ):
        page = await client.get("/oauth/authorize", params=query, allow_redirects=False)
        assert page.status == 303, query
        back = parse_qs(urlsplit(page.headers["Location"]).query)
        assert back["error"] == [error] and back["state"] == ["s1"], query
    # Denied: the app hears so.
    status, location, _ = await consent(client, base, decision="deny")
    assert status == 303 and parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    # The consent form is a cookie form: without its CSRF token, nothing.
    forged = await client.post(
        "/oauth/authorize", data={**base, "decision": "approve"}, allow_redirects=False
    )
    assert forged.status == 403


async def test_an_app_token_reads_as_the_app_and_is_revoked_by_its_client(client, factory):
    app = await register_app(client, scopes="read")
    form = {"grant_type": "client_credentials", "client_id": app["client_id"]}
    form["client_secret"] = app["client_secret"]
    too_much = await client.post("/oauth/token", data={**form, "scope": "write"})
    assert (await too_much.json())["error"] == "invalid_scope"
    answer = await client.post("/oauth/token", json={**form, "scope": "read"})
    assert answer.status == 200
    token = (await answer.json())["access_token"]
    verified = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert (await verified.json())["name"] == "Test app"
    author = await factory.user()
    await factory.post(author, "public words")
    explore = await client.get("/api/snapline/v1/explore", headers=bearer(token))
    assert (await explore.json())["items"][0]["body"] == "public words"
    # Nobody is behind an app's own token.
    assert (await client.get("/api/snapline/v1/timeline", headers=bearer(token))).status == 401

    stranger = await register_app(client)
    other_client = {"client_id": stranger["client_id"], "client_secret": stranger["client_secret"]}
    refused = await client.post("/oauth/revoke", data={**other_client, "token": token})
    assert refused.status == 403
    assert (await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))).ok
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    revoked = await client.post("/oauth/revoke", data={**credentials, "token": token})
    assert revoked.status == 200
    gone = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert gone.status == 401
    # Revoking what is already gone is no error (RFC 7009 §2.2).
    again = await client.post("/oauth/revoke", data={**credentials, "token": token})
    assert again.status == 200


async def test_the_out_of_band_code_and_the_metadata(client, factory, login):
    await login(client, await factory.user())
    app = await register_app(client)
    code = await authorize(client, app)
    assert (await exchange(client, app, code)).status == 200
    metadata = await (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"] == "http://snapline.test/oauth/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "read:statuses" in metadata["scopes_supported"]


async def test_a_bearer_post_needs_no_csrf_token_but_a_cookie_post_still_does(
    client, factory, login
):
    from tests.oauth import user_token

    await login(client, await factory.user())
    token = await user_token(client, scope="write")
    posted = await client.post(
        "/api/snapline/v1/posts", json={"body": "by token"}, headers=bearer(token)
    )
    assert posted.status == 201
    # The same browser, with its cookie and without the CSRF token: refused.
    cookie_only = await client.post("/api/snapline/v1/posts", json={"body": "by cookie"})
    assert cookie_only.status == 403
    # With both, the token alone decides: a read token cannot post, cookie or not.
    reader = await user_token(client, scope="read")
    both = await client.post(
        "/api/snapline/v1/posts", json={"body": "both"}, headers=bearer(reader)
    )
    assert both.status == 403
    assert (await submit(client, "/logout")).status == 303
