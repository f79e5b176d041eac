"""Generated requests against every route: never a 5xx, every refusal in the error envelope
(JSON) or on an error page (HTML), and nothing changed by a refused request.

Routes come from the application's router, so a new route is fuzzed without a change here.
Paths, query strings, form fields, JSON bodies, multipart parts and header values carry
arbitrary text and bytes (header values as raw bytes over a plain socket), anonymously, in
an anonymous session, signed in and as an admin, with a valid CSRF token most of the time so
that requests reach their handlers. ``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``) runs many
more examples than the bounded default of ``make test``."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import secrets
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import quote, quote_from_bytes

import aiohttp
import asyncpg
import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from yarl import URL

from service.app import create_app
from service.db import create_engine, make_sessionmaker
from service.settings import Settings
from tests.conftest import TEST_PASSWORD, Factory
from tests.rawhttp import RawResponse, send
from tests.support import asyncpg_dsn, csrf_of

T = TypeVar("T")

settings.register_profile(
    "default",
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=5000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# What a refused request must not touch. Rate-limit counters count refusals on purpose,
# and the outbox and media queues move on in the background after earlier requests.
GUARDED_TABLES = (
    "users",
    "auth_sessions",
    "email_tokens",
    "follows",
    "posts",
    "photos",
    "comments",
    "likes",
    "notifications",
    "avatars",
)
_CHECKSUM = " UNION ALL ".join(
    f"SELECT '{table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
    f" FROM {table} t"
    for table in GUARDED_TABLES
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A request to a stream never ends; its status and headers are all there is to check.
STEP_TIMEOUT_SECONDS = 30.0
# A route's formatter names its parts plainly: "/p/{id}".
PARAMETER = re.compile(r"\{(\w+)\}")

# Header values as an HTTP parser admits them (field-vchar, obs-text, space and tab): every
# other byte is refused by aiohttp's parser before the application sees the request.
HEADER_BYTES = st.binary(max_size=300).map(
    lambda raw: bytes(b for b in raw if b == 9 or 32 <= b <= 126 or b >= 128)
)
READ_HEADERS = (
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Cookie",
    "Content-Type",
    "Host",
    "Last-Event-ID",
    "Origin",
    "Referer",
    "User-Agent",
    "X-CSRF-Token",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Request-Id",
    "X-Requested-With",
    "If-Modified-Since",
    "If-None-Match",
    "Range",
)
FIELD_NAMES = (
    "body",
    "username",
    "email",
    "password",
    "login",
    "next",
    "display_name",
    "location",
    "bio",
    "current_password",
    "new_password",
    "role",
    "alt",
    "accept_rules",
    "limit",
    "cursor",
)


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    template: str
    parameters: tuple[str, ...]
    static: bool
    mastodon: bool = False  # the Mastodon client API's: errors are {"error": "<text>"}


@dataclasses.dataclass
class Identity:
    name: str
    cookie: str = ""
    token: str = ""


def routes_of(app: web.Application) -> list[Route]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        if "prefix" in info:  # a static directory: any file name below it
            template, static = info["prefix"].rstrip("/") + "/{filename}", True
        else:
            template, static = info.get("formatter") or info["path"], False
        parameters = tuple(match.group(1) for match in PARAMETER.finditer(template))
        mastodon = (route.name or "").startswith("mastodon_")
        found.append(Route(route.method, template, parameters, static, mastodon))
    return found


class Served:
    """The application on a loopback port, run by its own event loop in a thread, so the
    synchronous property tests can drive it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.identities: dict[str, Identity] = {}
        self.known: dict[str, Any] = {}

    def run(self, coroutine: Awaitable[T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(STEP_TIMEOUT_SECONDS)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self.app = create_app(self.settings)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        self.routes = routes_of(self.app)
        self.database = await asyncpg.connect(asyncpg_dsn(self.settings.database.url))
        self.engine = create_engine(self.settings.database.url, pool_size=1, max_overflow=0)
        factory = Factory(make_sessionmaker(self.engine), self.settings)
        self.accounts = {"user": await factory.user(), "admin": await factory.user(role="admin")}
        self.known.update(
            username=self.accounts["user"].username,
            filename="style.css",
            digest="0123456789abcdef",
        )
        for name in ("anonymous-session", "user", "admin"):
            self.identities[name] = await self._identity(name)
        self.identities["anonymous"] = Identity("anonymous")
        await self._content()

    async def _identity(self, name: str) -> Identity:
        # Logins are rate limited per address; these are the suite's own, not the fuzzer's.
        await self.database.execute("DELETE FROM rate_limit_counters")
        jar = aiohttp.CookieJar(unsafe=True)
        base = f"http://127.0.0.1:{self.port}"
        async with aiohttp.ClientSession(base, cookie_jar=jar) as browser:
            if name in self.accounts:
                account = self.accounts[name]
                token = csrf_of(await (await browser.get("/login")).text())
                form = {"login": account.username, "password": TEST_PASSWORD, "csrf_token": token}
                response = await browser.post("/login", data=form, allow_redirects=False)
                assert response.status == 303, await response.text()
            token = csrf_of(await (await browser.get("/")).text())
            cookie = jar.filter_cookies(URL(base))["snapline_session"].value
        return Identity(name, f"snapline_session={cookie}", token)

    async def _content(self) -> None:
        user = self.identities["user"]
        headers = [("Cookie", user.cookie), ("X-CSRF-Token", user.token)]
        json_headers = [*headers, ("Content-Type", "application/json")]
        post = await send(
            self.port, "POST", "/api/snapline/v1/posts", json_headers, b'{"body": "seed"}'
        )
        self.known["id"] = post.json()["id"]
        comment = await send(
            self.port,
            "POST",
            f"/api/snapline/v1/posts/{self.known['id']}/comments",
            json_headers,
            b'{"body": "a comment"}',
        )
        self.known["comment"] = comment.json()["id"]

    async def checksum(self) -> list[tuple]:
        return [tuple(row) for row in await self.database.fetch(_CHECKSUM)]

    async def still_signed_in(self, identity: Identity) -> bool:
        response = await send(
            self.port, "GET", "/api/snapline/v1/timeline", [("Cookie", identity.cookie)]
        )
        return response.status == 200

    def refresh(self, identity: Identity) -> None:
        """After a request that may have ended the session (logout, a password change)."""
        if identity.name in self.accounts and not self.run(self.still_signed_in(identity)):
            self.identities[identity.name] = self.run(self._identity(identity.name))

    def stop(self) -> None:
        async def _stop() -> None:
            await self.database.close()
            await self.engine.dispose()
            await self.runner.cleanup()

        self.run(_stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STEP_TIMEOUT_SECONDS)
        self.loop.close()


@pytest.fixture(scope="module")
def served(base_settings: Settings):
    # Behind a trusted proxy, as deployed, so X-Forwarded-* are read too.
    server = Served(base_settings.replace(server={"trusted_proxies": ("127.0.0.1",)}))
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------------------
# What a request is made of.

TEXT = st.text(max_size=60)
HUGE_DIGITS = st.integers(4301, 4600).map(lambda n: "9" * n)
# aiohttp's parser refuses a request line past 8,190 bytes itself (a plain-text 400 the
# application never sees), as nginx does past its buffers: generated targets stay below.
MAX_TARGET_BYTES = 8000
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "-0", "+1", " 1", "1 ", "1_0", "0x10", "1e3", "١", "00001"]),
    st.just(str(2**63 - 1)),
    st.just(str(2**63)),
    HUGE_DIGITS,
)


def encoded(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value, safe="", errors="surrogatepass")


def path_value(name: str, served: Served):
    known = [served.known[key] for key in (name, "id", "comment") if key in served.known]
    return st.one_of(
        st.sampled_from([str(value) for value in known]),
        NUMBERS,
        TEXT,
        st.binary(max_size=40),
        st.text(alphabet="./%~-_", max_size=12),
    ).map(encoded)


def query_string(served: Served):
    key = st.one_of(st.sampled_from(["limit", "cursor", "next", *FIELD_NAMES]), TEXT)
    value = st.one_of(NUMBERS, TEXT, st.binary(max_size=40), st.just(served.known["username"]))
    pair = st.tuples(key.map(encoded), value.map(encoded))
    return st.lists(pair, max_size=4).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def json_body(draw) -> bytes:
    kind = draw(st.sampled_from(["object", "value", "deep", "raw", "escapes"]))
    if kind == "object":
        fields = draw(st.dictionaries(st.sampled_from(FIELD_NAMES) | TEXT, JSON_VALUES))
        return orjson.dumps(fields)
    if kind == "value":
        return orjson.dumps(draw(JSON_VALUES))
    if kind == "deep":
        depth = draw(st.integers(1, 5000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"body":', "}")]))
        return ('{"body": "x", "a": ' + opener * depth + "1" + closer * depth + "}").encode()
    if kind == "escapes":  # what an encoder never writes: lone surrogates, NUL, huge numbers
        escape = draw(
            st.sampled_from(["\\ud800", "\\udfff", "\\u0000", "\\ud83d\\ude00", "\\"]) | HUGE_DIGITS
        )
        return f'{{"body": "a{escape}b", "n": 1{"0" * draw(st.integers(0, 400))}}}'.encode()
    return draw(st.binary(max_size=200))


@st.composite
def form_body(draw, token: str) -> bytes:
    fields = draw(
        st.lists(
            st.tuples(
                st.sampled_from(FIELD_NAMES) | TEXT,
                st.one_of(TEXT, NUMBERS, st.binary(max_size=60), st.just(token)),
            ),
            max_size=5,
        )
    )
    if token and draw(st.booleans()):
        fields.insert(0, ("csrf_token", token))
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in fields).encode()


@st.composite
def multipart_body(draw, token: str) -> tuple[str, bytes]:
    boundary = "fuzz" + secrets.token_hex(8)
    parts = []
    if token and draw(st.integers(0, 4)):
        parts.append((b'name="csrf_token"', b"", token.encode()))
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["photos", "avatar", *FIELD_NAMES]) | TEXT)
        disposition = f'name="{name}"'.encode("utf-8", "surrogatepass")
        if draw(st.booleans()):
            filename = draw(TEXT).encode("utf-8", "surrogatepass")
            disposition += b'; filename="' + filename + b'"'
        media_type = draw(st.sampled_from([b"", b"image/png", b"image/jpeg", b"text/plain"]))
        content = draw(
            st.one_of(
                st.binary(max_size=300),
                st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
                st.just(b"\xff\xd8\xff\xe0" + b"\x00" * 40),
            )
        )
        parts.append((disposition, media_type, content))
    body = b""
    for disposition, media_type, content in parts:
        body += f"--{boundary}\r\n".encode() + b"Content-Disposition: form-data; " + disposition
        if media_type:
            body += b"\r\nContent-Type: " + media_type
        body += b"\r\n\r\n" + content + b"\r\n"
    if draw(st.integers(0, 5)):  # sometimes cut short, without the closing boundary
        body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


@dataclasses.dataclass
class Request:
    identity: Identity
    method: str
    target: str
    headers: list[tuple[str, bytes | str]]
    body: bytes
    mastodon: bool = False


@st.composite
def requests(draw, served: Served, routes: list[Route] | None = None) -> Request:
    route = draw(st.sampled_from(routes or served.routes))
    identity = served.identities[draw(st.sampled_from(sorted(served.identities)))]
    path = route.template
    for name in route.parameters:
        path = path.replace("{" + name + "}", draw(path_value(name, served)), 1)
    query = draw(query_string(served))
    target = path + ("?" + query if query else "")
    assume(len(target) <= MAX_TARGET_BYTES)
    headers: list[tuple[str, bytes | str]] = []
    if identity.cookie:
        headers.append(("Cookie", identity.cookie))
    if route.method in UNSAFE and identity.token and draw(st.integers(0, 5)):
        headers.append(("X-CSRF-Token", identity.token))
    kind = draw(st.sampled_from(["none", "form", "json", "multipart", "raw"]))
    body = b""
    if kind == "form":
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        body = draw(form_body(identity.token))
    elif kind == "json":
        headers.append(("Content-Type", "application/json"))
        body = draw(json_body())
    elif kind == "multipart":
        media_type, body = draw(multipart_body(identity.token))
        headers.append(("Content-Type", media_type))
    elif kind == "raw":
        body = draw(st.binary(max_size=200))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(READ_HEADERS))
        value = draw(HEADER_BYTES)
        if name == "Host" and any(n.lower() == "host" for n, _ in headers):
            continue
        headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
        if name == "Host" and not value.strip():
            continue  # HTTP/1.1 requires a Host; an empty one is the parser's to refuse
        headers.append((name, value))
    return Request(identity, route.method, target, headers, body, route.mastodon)


# ---------------------------------------------------------------------------------------
# What every answer must be.


OAUTH_PATHS = ("/api/v1/apps", "/oauth/", "/.well-known/oauth-authorization-server")


def assert_clean_refusal(request: Request, response: RawResponse) -> None:
    where = (request.method, request.target[:200], request.identity.name, response.status)
    assert response.status < 500, (*where, response.text[:500])
    if response.status < 400 or request.method == "HEAD":
        return
    if response.status == 416 and "content-range" in response.headers:
        return  # a file's answer to a Range it cannot satisfy has no body by design
    if response.content_type == "application/json":
        error = response.json()["error"]
        if isinstance(error, str):
            # Mastodon's and OAuth's shape ({"error": "..."}): the Mastodon routes, the OAuth
            # endpoints, and bearer tokens refused anywhere.
            bearer_refusal = response.headers.get("www-authenticate", "").startswith("Bearer")
            assert error and (
                request.mastodon or request.target.startswith(OAUTH_PATHS) or bearer_refusal
            ), where
            return
        assert isinstance(error["code"], str) and error["code"], where
        assert isinstance(error["message"], str) and error["message"], where
    else:
        assert response.content_type == "text/html", (*where, response.headers)
        # An error page, or a form shown again with its messages (422): a whole page.
        assert "<html" in response.text and "</html>" in response.text, where


def exercise(served: Served, request: Request) -> None:
    before = served.run(served.checksum())
    response = served.run(
        send(served.port, request.method, request.target, request.headers, request.body)
    )
    # Shown by --hypothesis-show-statistics: which answers the examples reached.
    if currently_in_test_context():
        event(f"{request.method} answered {response.status}")
    assert_clean_refusal(request, response)
    if response.status >= 400:
        assert served.run(served.checksum()) == before, (
            "a refused request changed the database",
            request.method,
            request.target[:200],
            response.status,
        )
    elif request.method in UNSAFE:
        served.refresh(request.identity)


def test_the_router_is_enumerated(served: Served):
    templates = {route.template for route in served.routes}
    assert {"/p/{id}", "/api/snapline/v1/posts/{id}/comments", "/@{username}"} <= templates
    assert any(route.static for route in served.routes)
    assert len(served.routes) > 40


def test_every_route_refuses_hostile_values_cleanly(served: Served):
    """Each route at least once per identity, whatever the generated examples pick."""
    for route in served.routes:
        for identity in list(served.identities.values()):
            path, query = route.template, "?limit=" + "1" * 4400
            for name in route.parameters:
                path = path.replace("{" + name + "}", "9" * 4400 if name == "id" else "%FF%00")
                query = "?limit=%FF"
            headers: list[tuple[str, bytes | str]] = [
                ("Cookie", identity.cookie + b"; x=\xff".decode("latin-1")),
                ("X-CSRF-Token", identity.token.encode() + b"\xff"),
                ("Accept-Language", b"\xff\xfe"),
            ]
            request = Request(
                identity, route.method, path + query, headers, b"\xff", route.mastodon
            )
            exercise(served, request)


@given(data=st.data())
def test_any_request_to_any_route(served: Served, data):
    exercise(served, data.draw(requests(served)))


@given(data=st.data())
def test_bodies_to_routes_that_change_state(served: Served, data):
    unsafe = [route for route in served.routes if route.method in UNSAFE]
    request = data.draw(requests(served, unsafe))
    exercise(served, request)
