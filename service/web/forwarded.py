"""Believing X-Forwarded-* only from our own proxy, through aiohttp-remotes.

nginx replaces X-Forwarded-For with the address it saw (deploy/nginx.conf), so the entry we
read is always one address written by the proxy, never a chain a client made up. Requests
that do not come from a trusted proxy (a health check, a metrics scrape) pass unchanged.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_remotes import XForwardedRelaxed

from service.keys import client_address_key


def _peer_is_trusted(trusted_proxies: tuple[str, ...]):
    if "*" in trusted_proxies:
        return lambda peer: True
    networks = [ip_network(proxy, strict=False) for proxy in trusted_proxies]

    def trusted(peer: str | None) -> bool:
        try:
            address = ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in networks)

    return trusted


def forwarded_middleware(trusted_proxies: tuple[str, ...]) -> list:
    """``[]``: believe nobody. ``["*"]``: believe the direct peer, whoever it is (nginx on
    a unix socket has no address). Otherwise: believe peers in these addresses/networks."""
    if not trusted_proxies:
        return []
    trusted = _peer_is_trusted(trusted_proxies)
    relaxed = XForwardedRelaxed()

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not trusted(request.remote):
            return await handler(request)

        async def with_client(forwarded_request: web.Request) -> web.StreamResponse:
            # aiohttp-remotes hands on a clone; the access log sees the original request,
            # so the client's address is recorded there too.
            request[client_address_key] = forwarded_request.remote or ""
            return await handler(forwarded_request)

        return await relaxed.middleware(request, with_client)

    return [forwarded]
