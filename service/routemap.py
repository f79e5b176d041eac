"""Every route of the application, one line each: what `python -m service routes` prints and
docs/routes.md holds, so a newcomer can go from a URL to its handler."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class RouteLine:
    method: str
    path: str
    name: str
    handler: str


def route_lines(app: web.Application) -> list[RouteLine]:
    """The routes in registration order, HEAD left out (aiohttp adds one beside each GET)."""
    lines = []
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.get_info()
        path = info.get("formatter") or info.get("path") or f"{info.get('prefix', '')}/..."
        handler = route.handler
        where = f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"
        # A POST beside a named GET of the same path is a resource of its own, unnamed.
        lines.append(RouteLine(route.method, path, route.name or "-", where))
    return lines


def render(lines: list[RouteLine]) -> str:
    widths = [
        max(len(getattr(line, field)) for line in lines) for field in ("method", "path", "name")
    ]
    return "".join(
        f"{line.method:<{widths[0]}}  {line.path:<{widths[1]}}  {line.name:<{widths[2]}}  "
        f"{line.handler}\n"
        for line in lines
    )
