"""Snapline as deployed: Debian's nginx, configured from deploy/nginx.conf, in front of two
`serve` processes (one on a unix socket, one on a loopback port) that trust its
X-Forwarded-* headers. A person's whole path works through it and is spread over both
processes; nginx refuses oversized bodies itself, serves /static/ from disk, keeps /metrics
private and passes live events through unbuffered.

Clients connect from other loopback addresses (127.0.0.2, 127.0.0.3) than nginx's own
127.0.0.1, so the address the app believes is visibly the client's and not nginx's."""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from yarl import URL

from service.app import create_app
from tests import s3
from tests.conftest import TEST_PASSWORD
from tests.nginx import (
    DEPLOY_CONFIG,
    NGINX,
    STATIC_DIR,
    ConfigError,
    Nginx,
    Stack,
    derive_config,
    nginx_stack,
    private_dir,
)
from tests.support import CSRF_META, LINK, csrf_for
from tests.test_deploy import compose
from tests.test_live import next_event, session_for
from tests.test_mastodon_streaming import Events, token_for

# No silent skip: without nginx these tests fail and say what to install (make test does).
assert NGINX.exists(), f"no nginx at {NGINX}: apt-get install nginx"

EVENT_WITHIN_SECONDS = 1.0
# Access log lines are written just after each answer; mail by a background worker.
LOG_WAIT_SECONDS = 5.0
MAIL_WAIT_SECONDS = 15.0
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=30)
MIB = 1024 * 1024
# Over nginx's client_max_body_size (85 MiB, the app's own upload limit).
OVERSIZED_BYTES = 90 * MIB
SPOOFED_ADDRESS = "203.0.113.9"


@pytest.fixture(scope="module")
def deployed(database_url: str) -> Iterator[Stack]:
    with nginx_stack(database_url) as stack:
        yield stack


@pytest.fixture
def stack(deployed: Stack) -> Iterator[Stack]:
    """The running deployment; the test fails if an app process logged an error meanwhile
    (the in-process guard of conftest cannot see these processes)."""
    seen = {app.name: len(app.log()) for app in deployed.apps}
    yield deployed
    errors = [
        entry
        for app in deployed.apps
        for entry in app.log()[seen[app.name] :]
        if entry.get("level") in {"error", "critical"}
    ]
    assert not errors, errors


@asynccontextmanager
async def browser(address: str = "127.0.0.1") -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client with its own cookie jar, connecting from ``address``."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=CLIENT_TIMEOUT
    ) as http:
        yield http


async def clear_rate_limits(db) -> None:
    async with db.begin() as session:
        await session.execute(text("DELETE FROM rate_limit_counters"))


async def page_token(http: aiohttp.ClientSession, url: str, request_ids: list[str]) -> str:
    async with http.get(url) as response:
        assert response.status == 200
        note(response, request_ids)
        return CSRF_META.search(await response.text()).group(1)


def note(response: aiohttp.ClientResponse, request_ids: list[str]) -> None:
    """Keep the request id the app answered with (nginx's, passed on). Redirects have
    none: the error middleware re-raises them without adding it."""
    if "X-Request-Id" in response.headers:
        request_ids.append(response.headers["X-Request-Id"])


async def served_by(stack: Stack, request_ids: Iterable[str]) -> dict[str, str]:
    """The process ("a" or "b") that logged each request id, waiting (bounded) for lines."""
    wanted = set(request_ids)
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while True:
        found = {
            entry["request_id"]: app.name
            for app in stack.apps
            for entry in app.access_log()
            if entry.get("request_id") in wanted
        }
        if set(found) == wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


def written_mail(mail_dir: Path, address: str) -> EmailMessage | None:
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            return message
    return None


async def mail_to(mail_dir: Path, address: str) -> EmailMessage:
    """The .eml file either process wrote to ``address``, once there."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        if message := await asyncio.to_thread(written_mail, mail_dir, address):
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {address} within {MAIL_WAIT_SECONDS} s")


async def zeros(total: int) -> AsyncIterator[bytes]:
    """A body of ``total`` bytes, one MiB at a time (sent chunked: no Content-Length)."""
    chunk = bytes(MIB)
    for _ in range(total // MIB):
        yield chunk


def test_the_derived_config_passes_nginx_t() -> None:
    workdir = private_dir("snapline-nginx-t-")
    try:
        nginx = Nginx(workdir, [f"unix:{workdir / 'app.sock'}", "127.0.0.1:8081"])
        result = nginx.check()
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr
        config = nginx.config_path.read_text()
        assert "app:8080" not in config and "/srv/snapline" not in config
        assert f"alias {nginx.prefix / 'static'}/;" in config
    finally:
        shutil.rmtree(workdir)


moto_server = s3.moto_server
bucket = s3.bucket


async def test_nginx_serves_objects_from_the_bucket_but_never_a_listing(bucket) -> None:
    """The compose deployment reads photos through /objects/: each public object by its
    key, but neither a restricted photo, the bucket's listing nor any other S3 sub-resource."""
    key = "photos/abc/display.jpg"
    restricted = "restricted/abc/display.jpg"
    # The compose file's anonymous policy, on this bucket.
    policy = compose()["services"]["bucket"]["environment"]["READ_OBJECTS_POLICY"]
    async with bucket._client() as client:
        await client.put_bucket_policy(
            Bucket=bucket.name, Policy=policy.replace(":::snapline/", f":::{bucket.name}/")
        )
        await client.put_object(
            Bucket=bucket.name, Key=key, Body=b"photo", ContentType="image/jpeg"
        )
        await client.put_object(
            Bucket=bucket.name, Key=restricted, Body=b"private", ContentType="image/jpeg"
        )
    workdir = private_dir("snapline-nginx-objects-")
    nginx = Nginx(workdir, ["127.0.0.1:1"], objects=f"{bucket.endpoint}/{bucket.name}")
    try:
        await asyncio.to_thread(nginx.start)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"{nginx.base}/objects/{key}") as photo:
                assert photo.status == 200 and await photo.read() == b"photo"
            for path in ("/objects/", "/objects/?list-type=2", f"/objects/{key}?acl", "/objects"):
                async with http.get(nginx.base + path, allow_redirects=False) as listing:
                    assert listing.status in {301, 404}, path
                    assert key not in await listing.text(), path
            async with http.delete(f"{nginx.base}/objects/{key}") as deleting:
                assert deleting.status == 403
            # A restricted photo is never served from here, however its path is spelled.
            for path in (restricted, "restricted//abc/display.jpg", "%72estricted/abc/display.jpg"):
                async with http.get(f"{nginx.base}/objects/{path}") as private:
                    assert private.status == 404, path
                    assert await private.read() != b"private", path
        assert await bucket.keys() == [key, restricted]
    finally:
        await asyncio.to_thread(nginx.stop)
        shutil.rmtree(workdir)


def test_deriving_the_config_fails_when_a_marker_is_gone(tmp_path: Path) -> None:
    source = DEPLOY_CONFIG.read_text().replace("# test: static", "")
    with pytest.raises(ConfigError, match="static"):
        derive_config(
            source, prefix=tmp_path, port=8080, upstreams=["127.0.0.1:1"], static_dir=STATIC_DIR
        )


async def test_sign_up_confirm_log_in_post_and_load_more_through_nginx(stack: Stack, db) -> None:
    await clear_rate_limits(db)
    base = stack.nginx.base
    username = f"nginx_{secrets.token_hex(4)}"
    address = f"{username}@example.com"
    request_ids: list[str] = []
    async with browser("127.0.0.2") as http:
        token = await page_token(http, f"{base}/signup", request_ids)
        form = {"username": username, "email": address, "password": TEST_PASSWORD}
        # A forged Host header: links in the mail must still come from app.public_url.
        async with http.post(
            f"{base}/signup",
            data={**form, "csrf_token": token},
            headers={"Host": "evil.example"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303

    message = await mail_to(stack.mail_dir, address)
    assert "evil.example" not in message.as_string()
    link = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert link.startswith(f"{stack.public_url}/confirm/")

    async with browser("127.0.0.2") as http:
        # The emailed link as it is, in another browser, logged out: it leads to nginx.
        async with http.get(link, allow_redirects=False) as response:
            assert response.status == 303
        token = await page_token(http, f"{base}/login", request_ids)
        async with http.post(
            f"{base}/login",
            data={"login": username, "password": TEST_PASSWORD, "csrf_token": token},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
        token = await page_token(http, f"{base}/", request_ids)

        # Posting needs a confirmed address: 201 shows the confirmation took.
        posted: list[int] = []
        for number in range(7):
            async with http.post(
                f"{base}/api/snapline/v1/posts",
                json={"body": f"through nginx {number}"},
                headers={"X-CSRF-Token": token},
            ) as response:
                assert response.status == 201, await response.text()
                posted.append((await response.json())["id"])
                note(response, request_ids)

        # "Load more": follow next_cursor, three at a time, to the last page.
        shown: list[int] = []
        params = {"limit": "3"}
        for _ in range(len(posted)):
            async with http.get(f"{base}/api/snapline/v1/timeline", params=params) as response:
                assert response.status == 200
                note(response, request_ids)
                page = await response.json()
            shown += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert shown == posted[::-1]

        # A client's X-Forwarded-Host is dropped by nginx: the app does not take the
        # forged host for its own when deciding where "back" is.
        async with http.post(
            f"{base}/p/{posted[0]}/like",
            data={"csrf_token": token},
            headers={"Referer": "http://evil.example/explore", "X-Forwarded-Host": "evil.example"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == f"/p/{posted[0]}"

    served = await served_by(stack, request_ids)
    assert set(served) == set(request_ids), "some answers are missing from the access logs"
    assert set(served.values()) == {"a", "b"}, "one process got every request"
    upstreams = {entry["upstream"] for entry in stack.nginx.access_log()}
    assert stack.a.target in upstreams and stack.b.target in upstreams


async def test_the_app_believes_the_client_address_nginx_forwards(stack: Stack, db) -> None:
    """Failed logins are counted per client address: the count is the real client's (as
    nginx saw it), not nginx's, not the socket's, and not what the client claimed."""
    await clear_rate_limits(db)
    client_address = "127.0.0.3"
    request_ids: list[str] = []
    spoofing = {"X-Forwarded-For": SPOOFED_ADDRESS, "X-Forwarded-Proto": "https"}
    async with browser(client_address) as http:
        token = await page_token(http, f"{stack.nginx.base}/login", request_ids)
        for _ in range(4):
            form = {"login": f"nobody_{secrets.token_hex(4)}", "password": "wrong password"}
            async with http.post(
                f"{stack.nginx.base}/login",
                data={**form, "csrf_token": token},
                headers=spoofing,
                allow_redirects=False,
            ) as response:
                assert response.status == 422
                note(response, request_ids)
    served = await served_by(stack, request_ids)
    assert set(served.values()) == {"a", "b"}, "both the unix socket and the port"
    async with db() as session:
        rows = await session.execute(
            text("SELECT bucket, hits FROM rate_limit_counters WHERE bucket LIKE 'login-%'")
        )
        counts = dict(rows.all())
    by_address = {bucket: hits for bucket, hits in counts.items() if "address" in bucket}
    assert by_address == {f"login-address:{client_address}": 4}


async def test_the_access_log_records_the_client_address_nginx_forwards(stack: Stack) -> None:
    request_ids: list[str] = []
    async with browser("127.0.0.3") as http:
        for _ in range(2):
            async with http.get(f"{stack.nginx.base}/healthz") as response:
                note(response, request_ids)
    assert set((await served_by(stack, request_ids)).values()) == {"a", "b"}
    remotes = {
        entry["remote"]
        for app in stack.apps
        for entry in app.access_log()
        if entry.get("request_id") in request_ids
    }
    assert remotes == {"127.0.0.3"}


async def test_a_client_forwarded_for_that_is_not_an_address_does_not_fail_requests(
    stack: Stack,
) -> None:
    # Some proxies between people and us write "unknown" there.
    async with browser("127.0.0.3") as http:
        for _ in range(2):
            async with http.get(
                f"{stack.nginx.base}/healthz", headers={"X-Forwarded-For": "unknown"}
            ) as response:
                assert response.status == 200


async def test_trusted_proxy_addresses_take_the_address_nginx_appended(
    aiohttp_client, settings, db
) -> None:
    await clear_rate_limits(db)
    app = create_app(settings.replace(server={"trusted_proxies": ("127.0.0.1",)}))
    client = await aiohttp_client(app)
    # A health check or a metrics scrape straight from the proxy's machine.
    assert (await client.get("/healthz")).status == 200
    token = await csrf_for(client, "/login")
    # A proxy that appends (rather than replaces, as ours does) for a client at 127.0.0.3
    # that brought its own X-Forwarded-For: the entry the proxy wrote is the one believed.
    response = await client.post(
        "/login",
        data={"login": "nobody_at_all", "password": "wrong password", "csrf_token": token},
        headers={"X-Forwarded-For": f"{SPOOFED_ADDRESS}, 127.0.0.3"},
    )
    assert response.status == 422
    async with db() as session:
        buckets = set(await session.scalars(text("SELECT bucket FROM rate_limit_counters")))
    assert "login-address:127.0.0.3" in buckets


async def test_live_events_arrive_through_nginx_within_a_second(stack: Stack, factory) -> None:
    base = stack.nginx.base
    reader, author = await factory.user(), await factory.user()
    reader_http, reader_token = await session_for(base, reader)
    author_http, author_token = await session_for(base, author)
    try:
        async with reader_http.post(
            f"{base}/api/snapline/v1/users/{author.username}/follow",
            headers={"X-CSRF-Token": reader_token},
        ) as followed:
            assert followed.status == 200
        async with reader_http.get(f"{base}/api/snapline/v1/stream") as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            await next_event(stream, "notifications", 5)
            # Publish until both processes have published once: the stream is held by one
            # of them, so at least one event crossed from the other (LISTEN/NOTIFY).
            publishers: set[str] = set()
            for number in range(6):
                started = time.monotonic()
                async with author_http.post(
                    f"{base}/api/snapline/v1/posts",
                    json={"body": f"live through nginx {number}"},
                    headers={"X-CSRF-Token": author_token},
                ) as response:
                    assert response.status == 201
                    post_id = (await response.json())["id"]
                    request_id = response.headers["X-Request-Id"]
                event = await next_event(stream, "post", EVENT_WITHIN_SECONDS)
                assert event["post_id"] == post_id
                assert time.monotonic() - started < EVENT_WITHIN_SECONDS
                publishers |= set((await served_by(stack, [request_id])).values())
                if publishers == {"a", "b"}:
                    break
            assert publishers == {"a", "b"}
    finally:
        await reader_http.close()
        await author_http.close()


async def test_apps_stream_through_nginx_and_their_token_stays_out_of_its_log(
    stack: Stack, factory, db
) -> None:
    base = stack.nginx.base
    reader, author = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    token = await token_for(db, reader, {"read"})
    query = {"stream": "user", "access_token": token}
    async with browser() as http, http.get(f"{base}/api/v1/streaming", params=query) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert await asyncio.wait_for(stream.content.readline(), LOG_WAIT_SECONDS) == b":)\n"
        started = time.monotonic()
        await factory.post(author, "streamed through nginx")
        name, data = await Events(stream).next(EVENT_WITHIN_SECONDS)
        assert name == "update" and "streamed through nginx" in data
        assert time.monotonic() - started < EVENT_WITHIN_SECONDS
    # nginx logs the stream once it is closed.
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while not (
        logged := [e for e in stack.nginx.access_log() if e["uri"].startswith("/api/v1/streaming")]
    ):
        assert time.monotonic() < deadline, "the stream was not logged"
        await asyncio.sleep(0.05)
    assert [entry["uri"] for entry in logged] == [
        "/api/v1/streaming?stream=user&access_token=[filtered]"
    ]
    assert token not in (stack.nginx.prefix / "access.log").read_text()


async def test_nginx_refuses_an_oversized_upload_before_the_app_sees_it(stack: Stack) -> None:
    base = stack.nginx.base
    headers = {"Content-Type": "multipart/form-data; boundary=snapline"}
    async with browser() as http:
        async with http.post(
            f"{base}/api/snapline/v1/posts", data=zeros(OVERSIZED_BYTES), headers=headers
        ) as response:
            assert response.status == 413
            assert "X-Request-Id" not in response.headers
        # A body within the limit does reach the app (which wants a CSRF token first).
        async with http.post(
            f"{base}/api/snapline/v1/posts",
            data=zeros(2 * MIB),
            headers={"Content-Type": "application/octet-stream"},
        ) as ok:
            assert ok.status == 403
            later = [ok.headers["X-Request-Id"]]
        for _ in range(2):
            async with http.get(f"{base}/healthz") as response:
                note(response, later)
    refused = [entry for entry in stack.nginx.access_log() if entry["status"] == 413]
    assert len(refused) == 1 and refused[0]["uri"] == "/api/snapline/v1/posts"
    # nginx never opened a connection to an app process for it...
    assert refused[0]["upstream"] == "" and refused[0]["upstream_status"] == ""
    # ...and neither process logged it, though both have logged what came after.
    assert set((await served_by(stack, later)).values()) == {"a", "b"}
    assert not [
        entry
        for app in stack.apps
        for entry in app.access_log()
        if entry.get("request_id") == refused[0]["request_id"]
    ]


async def test_nginx_serves_static_files_from_disk_with_a_long_cache_lifetime(
    stack: Stack,
) -> None:
    async with browser() as http:
        async with http.get(f"{stack.nginx.base}/explore") as page:
            assets = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', await page.text()))
        assert {path.split("?")[0] for path in assets} >= {"/static/style.css", "/static/app.js"}
        for path in assets:
            async with http.get(stack.nginx.base + path) as response:
                assert response.status == 200
                on_disk = STATIC_DIR / path.split("?")[0].removeprefix("/static/")
                assert await response.read() == on_disk.read_bytes()  # the client unzips
                if on_disk.suffix in (".css", ".js", ".svg") and on_disk.stat().st_size > 1024:
                    assert response.headers.get("Content-Encoding") == "gzip", path
                cache = ", ".join(response.headers.getall("Cache-Control"))
                assert "max-age=31536000" in cache and "immutable" in cache
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                # Answered by nginx alone: the app adds a request id to everything.
                assert "X-Request-Id" not in response.headers
        async with http.get(f"{stack.nginx.base}/static/no-such-file.css") as missing:
            assert missing.status == 404
            assert "X-Request-Id" not in missing.headers


async def test_metrics_are_not_reachable_through_nginx_but_are_on_the_app(stack: Stack) -> None:
    async with browser() as http:
        for path in ("/metrics", "/metrics?x=1", "//metrics", "/%6Detrics", "/static/../metrics"):
            async with http.get(URL(stack.nginx.base + path, encoded=True)) as response:
                assert response.status == 404, path
                assert "snapline_http" not in await response.text()
    # Straight to each process, as a monitoring system on their network would scrape.
    direct = [
        (aiohttp.TCPConnector(), f"http://{stack.b.target}/metrics"),
        (aiohttp.UnixConnector(path=stack.a.target.removeprefix("unix:")), "http://a/metrics"),
    ]
    for connector, url in direct:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=CLIENT_TIMEOUT) as http,
            http.get(url) as response,
        ):
            assert response.status == 200
            assert "snapline_http_request_duration_seconds" in await response.text()
