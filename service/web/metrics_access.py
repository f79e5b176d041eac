"""Only the scrapers may read /metrics: peers listed in ``server.metrics_allow``.

nginx answers 404 for /metrics, but a replica reached directly (its port on a private
network, a misrouted load balancer) would answer anyone. Every address the request is
believed to come from must be allowed: the direct peer, and the client a trusted proxy
named in X-Forwarded-For (service/web/forwarded.py decides whom to believe). So a request
passed on by nginx is judged by its real client, and a forged X-Forwarded-For from an
untrusted peer changes nothing.

A unix-socket peer has no address; ``unix`` in the list (there by default) allows it. Like
loopback it can only be a process on this machine (one allowed into the socket's directory),
and through nginx on that socket it is the forwarded client that is judged, as above.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from aiohttp import web
from aiohttp.typedefs import Handler

from service.settings import UNIX_PEER


def _is_allowed(address: str, networks: list[IPv4Network | IPv6Network], allow_unix: bool) -> bool:
    if address == "":
        return allow_unix
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in networks)


def _direct_peer(request: web.Request) -> str | None:
    """The connection's own peer, whatever X-Forwarded-For says: an address, "" for a unix
    socket, None once the connection is gone."""
    if request.transport is None:
        return None
    peername = request.transport.get_extra_info("peername")
    return str(peername[0]) if isinstance(peername, tuple) else ""


def only_from(allow: tuple[str, ...], handler: Handler) -> Handler:
    """``handler`` for allowed peers; for anyone else the same 404 as an unknown page."""
    networks = [ip_network(entry, strict=False) for entry in allow if entry != UNIX_PEER]
    allow_unix = UNIX_PEER in allow

    async def guarded(request: web.Request) -> web.StreamResponse:
        peers = (_direct_peer(request), request.remote or "")
        if not all(peer is not None and _is_allowed(peer, networks, allow_unix) for peer in peers):
            raise web.HTTPNotFound()
        return await handler(request)

    return guarded
