"""Mastodon web clients on other origins (Elk, Phanpy) call the APIs from a browser: a
preflight is answered, and every answer of the APIs may be read by any origin, without the
browser's credentials."""

from __future__ import annotations

from tests.test_mastodon_writes import token_for

ELSEWHERE = "https://elk.example"
PREFLIGHT = {
    "Origin": ELSEWHERE,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


async def test_a_preflight_is_answered_before_anyone_is_asked_who_calls(client):
    for path in ("/api/v1/statuses", "/oauth/token", "/api/snapline/v1/posts"):
        answer = await client.options(path, headers=PREFLIGHT)
        assert answer.status == 204, path
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
        allowed = answer.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {
            name.strip() for name in allowed.split(",")
        }
        assert "Access-Control-Allow-Credentials" not in answer.headers
    # Not the pages: no other origin may read them.
    answer = await client.options("/login", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in answer.headers


async def test_an_app_elsewhere_reads_answers_refusals_and_paging_headers(client, factory, db):
    reader = await factory.user()
    author = await factory.user()
    await factory.follow(reader, author)
    for number in range(3):
        await factory.post(author, f"post {number}")
    auth = await token_for(db, reader, "read")
    answer = await client.get(
        "/api/v1/timelines/home?limit=2", headers={**auth, "Origin": ELSEWHERE}
    )
    assert answer.status == 200 and len(await answer.json()) == 2
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {name.strip() for name in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Link", "X-RateLimit-Remaining"} <= exposed and "Link" in answer.headers
    assert "Access-Control-Allow-Credentials" not in answer.headers
    refused = await client.get("/api/v1/timelines/home", headers={"Origin": ELSEWHERE})
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"
    page = await client.get("/login", headers={"Origin": ELSEWHERE})
    assert "Access-Control-Allow-Origin" not in page.headers
