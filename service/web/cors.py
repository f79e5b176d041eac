"""Cross-origin requests to the APIs, for apps that run in a browser on their own origin
(Elk, Phanpy and other Mastodon web clients): Mastodon's policy, one rule for every path
of the APIs, OAuth's token endpoints and discovery.

Any origin may call them, and read the headers apps page and pace themselves by, but never
with the browser's credentials: no ``Access-Control-Allow-Credentials``, so a page elsewhere
cannot send Snapline's session cookie and read the answer. What such an app sends is a
bearer token, which it was given. The rule is fixed, so it is a preflight answer and a
header on each response here rather than aiohttp-cors, which would add an OPTIONS route to
every resource (and to the route map, the scope table and the fuzz tests) to say the same.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

CROSS_ORIGIN_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept"
EXPOSED_HEADERS = (
    "Link, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
)
# How long a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE_SECONDS = 86_400


def _cross_origin(request: web.BaseRequest) -> bool:
    return request.path.startswith(CROSS_ORIGIN_PREFIXES)


@web.middleware
async def cors_preflight_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers a browser's preflight (an OPTIONS naming the method it wants to send) for
    the paths above, before anything asks who is calling: a preflight carries no token."""
    if (
        request.method == hdrs.METH_OPTIONS
        and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        and _cross_origin(request)
    ):
        return web.Response(
            status=204,
            headers={
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: ALLOWED_METHODS,
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
                hdrs.ACCESS_CONTROL_MAX_AGE: str(PREFLIGHT_MAX_AGE_SECONDS),
            },
        )
    return await handler(request)


async def cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer of those paths, refusals and streams included, so an app can read
    why it was refused and page by the ``Link`` header."""
    if _cross_origin(request):
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = "*"
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS
