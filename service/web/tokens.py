"""Bearer tokens on the HTTP side: which scopes each route asks of one (declared in one
place, routes.TOKEN_SCOPES, deny by default) and the answers Mastodon gives when a token
will not do (RFC 6750 §3)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import orjson
from aiohttp import web

from service import scopes
from service.i18n import lazy_gettext
from service.web.language import use_request_language

INVALID_TOKEN = lazy_gettext("The access token is invalid")
OUTSIDE_SCOPES = lazy_gettext("This action is outside the authorized scopes")

Requirement = str | tuple[str, ...]


class RouteScopes:
    """What a bearer token must hold for each route, by method and route name. A route left
    out refuses every token: a new route is closed to apps until someone decides which
    scope it needs. A POST beside a named GET of the same path goes by the GET's name.
    ``client_routes`` authenticate the app itself (its client secret), never a user: they
    read neither a bearer token nor the session cookie, and need no CSRF token.
    ``query_token_routes`` also take the token as the ``access_token`` query parameter."""

    def __init__(
        self,
        required: Mapping[tuple[str, str], Requirement],
        client_routes: Collection[str],
        router: web.UrlDispatcher,
        query_token_routes: Collection[str] = (),
    ) -> None:
        self._names: dict[str, str] = {}
        for resource in router.resources():
            if resource.name is not None:
                self._names.setdefault(resource.canonical, resource.name)
        known = set(self._names.values())
        declared = {name for _, name in required} | set(client_routes) | set(query_token_routes)
        unknown = sorted(declared - known)
        if unknown:
            raise ValueError(f"scopes declared for routes that do not exist: {unknown}")
        for requirement in required.values():
            for scope in (requirement,) if isinstance(requirement, str) else requirement:
                if scope not in scopes.KNOWN:
                    raise ValueError(f"not a scope: {scope!r}")
        self._required = {
            key: (value,) if isinstance(value, str) else tuple(value)
            for key, value in required.items()
        }
        self._client_routes = frozenset(client_routes)
        self._query_token_routes = frozenset(query_token_routes)

    def route_name(self, request: web.Request) -> str | None:
        resource = request.match_info.route.resource
        if resource is None:
            return None
        return resource.name or self._names.get(resource.canonical)

    def required(self, request: web.Request) -> tuple[str, ...] | None:
        """The scopes of which a token needs one here; () for any valid token; None when the
        route takes no token at all."""
        method = "GET" if request.method == "HEAD" else request.method
        return self._required.get((method, self.route_name(request) or ""))

    def is_client_route(self, request: web.Request) -> bool:
        return self.route_name(request) in self._client_routes

    def takes_query_token(self, request: web.Request) -> bool:
        return self.route_name(request) in self._query_token_routes

    def declared(self) -> dict[tuple[str, str], tuple[str, ...]]:
        return dict(self._required)


def token_refused(status: int, message: str, error: str) -> web.Response:
    """Mastodon's error body, with RFC 6750's challenge for the client library."""
    return web.Response(
        body=orjson.dumps({"error": message}),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers={"WWW-Authenticate": f'Bearer error="{error}"'},
    )


def invalid_token(request: web.Request) -> web.Response:
    # Refused before the request's language was chosen (no account is known): the device's.
    use_request_language(request)
    return token_refused(401, str(INVALID_TOKEN), "invalid_token")


def outside_scopes(request: web.Request) -> web.Response:
    use_request_language(request)
    return token_refused(403, str(OUTSIDE_SCOPES), "insufficient_scope")
