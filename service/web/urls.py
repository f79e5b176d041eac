"""URLs built from route names (service/routes.py), never written out: ``url('post', id=3)``
in templates, ``url_for(request, 'post', id=3)`` in handlers, and each route's path
template for the post cards, which build a dozen links per card."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

from aiohttp import web

route_urls_key = web.AppKey("route_urls", "RouteUrls")


class RouteUrls:
    """A route's path template is looked up once; after that a URL is one ``format``.
    Where a page or an answer builds many (cards, the API's serializers), it formats
    ``template(name)`` itself: ids and usernames (``[A-Za-z0-9_]``, the users table's check)
    need no quoting."""

    def __init__(
        self, router: web.UrlDispatcher, static: Callable[[str], str] | None = None
    ) -> None:
        self._router = router
        self._templates: dict[str, str] = {}
        self._static = static

    def static(self, filename: str) -> str:
        """A static file's URL with the hash of its content (web.templating.StaticUrls,
        which remembers it outside development, when the templates bound one)."""
        if self._static is not None:
            return self._static(filename)
        return str(self._router["static"].url_for(filename=filename))

    def template(self, name: str) -> str:
        """The route's path with its parts as ``{name}`` fields, e.g. ``/p/{id}``."""
        template = self._templates.get(name)
        if template is None:
            info = self._router[name].get_info()
            template = self._templates[name] = info.get("formatter") or info["path"]
        return template

    def __call__(self, name: str, query_: Mapping[str, str] | None = None, **parts: object) -> str:
        url = self.template(name)
        if parts:
            url = url.format_map({key: quote(str(value), safe="/") for key, value in parts.items()})
        return f"{url}?{urlencode(query_)}" if query_ else url


def url_for(
    request: web.Request, name: str, query_: Mapping[str, str] | None = None, **parts: object
) -> str:
    return request.app[route_urls_key](name, query_, **parts)
