"""Cross-cutting HTTP behaviour: security headers, cookies, error pages, probes."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from service.app import create_app
from tests.support import csrf_for

STATIC_DIR = Path(__file__).resolve().parent.parent / "service" / "static"


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


async def test_security_headers_on_pages_errors_and_static_files(client):
    for path in ("/", "/login", "/no-such-page", "/healthz"):
        assert_security_headers(await client.get(path))
    page = await (await client.get("/")).text()
    stylesheet = page.split('rel="stylesheet" href="')[1].split('"')[0]
    static = await client.get(stylesheet)
    assert static.status == 200
    assert_security_headers(static)


def assert_no_server_software(server: str | None) -> None:
    # No product version to look up vulnerabilities by: absent, or a name without numbers.
    assert server is None or not re.search(r"\d|aiohttp|python", server, re.IGNORECASE), server


async def raw_exchange(client: TestClient, request: bytes) -> bytes:
    """What the server answers to bytes that need not be valid HTTP."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_server_header_names_no_versions_on_any_response(client):
    page = await (await client.get("/")).text()
    stylesheet = page.split('rel="stylesheet" href="')[1].split('"')[0]
    answers = [
        await client.get(path)
        for path in ("/", "/no-such-page", "/healthz", "/api/snapline/v1/posts/0", stylesheet)
    ]
    answers.append(await client.post("/login", data={"login": "x", "password": "y"}))  # 403
    answers.append(await client.delete("/healthz"))  # 405
    assert {response.status for response in answers} == {200, 403, 404, 405}
    for response in answers:
        assert_no_server_software(response.headers.get("Server"))
    # Requests the server cannot even parse never reach the application.
    for request in (
        b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"HZ / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        head = (await raw_exchange(client, request)).split(b"\r\n\r\n", 1)[0].decode()
        assert head.startswith("HTTP/1.") and " 200 " not in head.split("\r\n")[0], head
        servers = re.findall(r"^server: *(.*)$", head, re.IGNORECASE | re.MULTILINE)
        assert_no_server_software(servers[0] if servers else None)


async def test_pages_have_no_inline_script(client):
    for path in ("/", "/login", "/signup", "/password/forgot"):
        html = await (await client.get(path)).text()
        assert "<script>" not in html and "onclick" not in html.lower()


async def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = await client.get("/login")
    cookie = response.cookies["snapline_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]


async def test_session_cookie_is_secure_when_public_url_is_https(aiohttp_client, settings):
    https = settings.replace(app={"public_url": "https://snapline.example"})
    client: TestClient = await aiohttp_client(create_app(https))
    response = await client.get("/login")
    assert response.cookies["snapline_session"]["secure"]
    assert "max-age" in response.headers["Strict-Transport-Security"]


async def test_unknown_page_is_a_404_page_or_json_by_accept(client):
    html = await client.get("/nope")
    assert html.status == 404
    assert "Not found" in await html.text()
    api = await client.get("/nope", headers={"Accept": "application/json"})
    assert api.status == 404
    assert (await api.json()) == {
        "error": {"code": "not_found", "message": "There is nothing here."}
    }


async def test_wrong_method_is_405(client):
    response = await client.put("/login")
    assert response.status == 405
    assert "Traceback" not in await response.text()


async def test_oversized_form_is_413(client):
    token = await csrf_for(client, "/login")
    body = io.BytesIO(f"csrf_token={token}&password=p&login=".encode() + b"x" * (2 * 1024 * 1024))
    response = await client.post(
        "/login", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 413
    assert "too large" in await response.text()


async def test_non_form_body_is_refused(client):
    token_page = await client.get("/login")
    assert token_page.status == 200
    response = await client.post("/login", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 403


async def test_health_and_readiness(client):
    health = await client.get("/healthz")
    assert health.status == 200 and await health.text() == "ok"
    ready = await client.get("/readyz")
    assert ready.status == 200


async def test_request_id_is_echoed_on_error_pages(client):
    response = await client.get("/nope", headers={"X-Request-Id": "abc12345-test"})
    assert response.headers["X-Request-Id"] == "abc12345-test"
    assert "abc12345-test" in await response.text()


async def test_static_files_are_answered_with_their_type_and_revalidated(client):
    page = await (await client.get("/login")).text()
    stylesheet = re.search(r'"(/static/style\.css\?v=[^"]+)"', page)
    assert stylesheet is not None
    first = await client.get(stylesheet.group(1))
    assert first.status == 200 and first.headers["Content-Type"] == "text/css; charset=utf-8"
    assert (await first.read()).startswith(b"/*")
    etag = first.headers["ETag"]
    again = await client.get(stylesheet.group(1), headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    missing = await client.get("/static/no-such-file.css")
    assert missing.status == 404 and "text/html" in missing.headers["Content-Type"]


async def test_static_text_is_gzipped_and_kept_a_year_by_its_versioned_url(client):
    page = await (await client.get("/login")).text()
    assets = re.findall(r'"(/static/(?:style\.css|app\.js)\?v=[^"]+)"', page)
    assert len(assets) == 2
    for url in assets:
        on_disk = (STATIC_DIR / url.split("?")[0].removeprefix("/static/")).read_bytes()
        zipped = await client.get(url, headers={"Accept-Encoding": "br, gzip;q=0.8"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["Vary"] == "Accept-Encoding"
        assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert await zipped.read() == on_disk  # the client unzips it
        assert int(zipped.headers["Content-Length"]) < len(on_disk) / 2
        for refused in ("identity", "gzip;q=0", "br"):
            plain = await client.get(url, headers={"Accept-Encoding": refused})
            assert "Content-Encoding" not in plain.headers, refused
            assert await plain.read() == on_disk
        # Without its version (or with an old one), asked again each time.
        for stale in (url.split("?")[0], url.split("?")[0] + "?v=old"):
            answer = await client.get(stale)
            assert answer.headers["Cache-Control"] == "no-cache"
            assert await answer.read() == on_disk
