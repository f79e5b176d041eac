"""What every page template can use: the viewer, the CSRF token, flash messages, filters;
and fragments, the parts of a page its script asks for instead of the whole page."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import STORAGE_KEY, get_session
from markupsafe import Markup, escape

from service import i18n
from service.keys import settings_key
from service.reads.views import SessionUser
from service.security import safe_next
from service.web.auth import current_user
from service.web.cards import comment_text, compact, like_form, photo_tiles, post_cards
from service.web.csrf import CSRF_SESSION_KEY, csrf_token
from service.web.flash import pop_flashes
from service.web.icons import icon_svg
from service.web.times import exact_time, iso_time, time_tag
from service.web.urls import RouteUrls, route_urls_key

# A request carrying this header asks for a fragment: the page's list items (or the one
# thing a form changed), rendered by the same templates and cards.py functions as the page,
# for the page's script to insert. Asked for by header rather than by a query parameter so
# that "load more" fetches exactly the URL of the "Older posts" link it replaces.
FRAGMENT_HEADER = "X-Snapline-Fragment"
# A page that may answer with a fragment says so, so no cache ever hands one for the other.
FRAGMENT_VARY = {"Vary": FRAGMENT_HEADER}


def wants_fragment(request: web.Request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


class StaticUrls:
    """``static('app.js')`` in templates: the file's URL with a hash of its content, so
    browsers can keep it until it changes. aiohttp reads and hashes the file for every URL
    it builds; in production the files never change while a process runs, so each is
    hashed once."""

    def __init__(self, app: web.Application, remember: bool) -> None:
        self.app = app
        self.remember = remember
        self.known: dict[str, str] = {}

    def __call__(self, filename: str) -> str:
        url = self.known.get(filename)
        if url is None:
            url = str(self.app.router["static"].url_for(filename=filename))
            if self.remember:
                self.known[filename] = url
        return url


class Icons:
    """``icon('heart')`` in templates: an icon of static/icons.svg (web.icons.icon_svg)."""

    def __init__(self, static: StaticUrls) -> None:
        self.static = static

    def __call__(self, name: str) -> Markup:
        return Markup(icon_svg(self.static("icons.svg"), name))


class ConstantParts:
    """``constant('part.html', name=value)`` in templates: a part whose markup depends on
    nothing but the values passed (no viewer, no token, no time), such as the composer's
    photo fields. A page spends more on a loop of fixed markup than on its whole layout, so
    outside development each part is rendered once per process for each language and set of
    values."""

    def __init__(self, environment: jinja2.Environment, remember: bool) -> None:
        self.environment = environment
        self.remember = remember
        self.known: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Markup] = {}

    def __call__(self, name: str, **values: Any) -> Markup:
        key = (name, i18n.current(), tuple(sorted(values.items())))
        markup = self.known.get(key)
        if markup is None:
            markup = Markup(self.environment.get_template(name).render(values))
            if self.remember:
                self.known[key] = markup
        return markup


def setup_templates(app: web.Application, directory: Path, development: bool) -> None:
    """Jinja for pages. Only in development does it look for changed templates (a stat of
    each template on every render otherwise)."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        filters=template_filters(),
        auto_reload=development,
        extensions=["jinja2.ext.i18n"],
    )
    # `_()`, `gettext`, `ngettext` and {% trans %} translate into the language in use
    # (i18n.current(), set per request); "newstyle": `_("Hello %(name)s", name=...)`
    # formats after translating and escapes the values.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    static = environment.globals["static"] = StaticUrls(app, remember=not development)
    environment.globals["icon"] = Icons(static)
    environment.globals["constant"] = ConstantParts(environment, remember=not development)
    app[route_urls_key] = RouteUrls(app.router, static)
    environment.globals["url"] = app[route_urls_key]
    # The cards link to routes by name: bound to this app's routes here, for templates.
    environment.globals["post_cards"] = functools.partial(post_cards, app[route_urls_key])
    environment.globals["like_form"] = functools.partial(like_form, app[route_urls_key])
    environment.globals["photo_tiles"] = functools.partial(photo_tiles, app[route_urls_key])
    environment.globals["comment_text"] = functools.partial(comment_text, app[route_urls_key])


def first_page(request: web.Request) -> bool:
    """Whether a list shown for this request is its first page (no cursor): its first photo
    is then the top of what a person sees, fetched first. The same for a page and for the
    fragment of the same URL, which must be the same markup."""
    return "cursor" not in request.query


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    unread: int = 0,
) -> web.Response:
    """Render a page with what every page needs: the viewer, the CSRF token, the flash
    messages (taken from the session here, so only a page that is shown consumes them),
    and the viewer's count of unread notifications, which the handler read."""
    viewer = current_user(request)
    page = {
        "current_user": viewer,
        "csrf_token": await csrf_token(request),
        "flashes": await pop_flashes(request),
        "unread_notifications": unread,
        "section": _section(request, viewer),
        "first_page": first_page(request),
        **_language_choice(request, status),
        **(context or {}),
    }
    return aiohttp_jinja2.render_template(template, request, page, status=status)


def _language_choice(request: web.Request, status: int) -> dict[str, Any]:
    """The page's language (`<html lang>`) and, where there is a choice, the footer's
    switcher: the languages offered, by their own names (as character references, so that
    an English page stays ASCII: docs/rendering.md), and the page to come back to."""
    offered = request.app[settings_key].app.languages
    return {
        "language": i18n.current(),
        "languages": [(tag, _LANGUAGE_NAMES[tag]) for tag in offered] if len(offered) > 1 else [],
        "this_page": _coming_back(request, status),
    }


_LANGUAGE_NAMES = {
    tag: Markup(escape(name).encode("ascii", "xmlcharrefreplace").decode("ascii"))
    for tag, name in i18n.LANGUAGES.items()
}


def _coming_back(request: web.Request, status: int) -> str:
    """Where the switcher returns: this page, but the start after an error (its address may
    be one the visitor was refused, such as a profile hidden from them), and never to
    another site's address a query's ``next`` names (the page does not repeat it)."""
    if status >= 400:
        return "/"
    url = request.rel_url
    asked = url.query.get("next")
    if asked is not None and safe_next(asked, "") != asked:
        url = url.with_query([(key, value) for key, value in url.query.items() if key != "next"])
    return str(url)


# The parts of the site the main navigation leads to, by the route of their page.
SECTIONS = frozenset({"home", "explore", "notifications", "search"})


def _section(request: web.Request, viewer: SessionUser | None) -> str | None:
    """Which link of the main navigation is the page the viewer is on (aria-current)."""
    route = request.match_info.route.name
    if route in SECTIONS:
        return route
    if route == "profile" and viewer and request.match_info.get("username") == viewer.username:
        return "profile"
    return None


async def render_fragment(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """A fragment: ``template`` with the viewer and the CSRF token (its forms need them),
    without the page around it, its flash messages (they wait for the next page) or the
    unread count."""
    fragment = {
        "current_user": current_user(request),
        "csrf_token": await csrf_token(request),
        "first_page": first_page(request),
        **(context or {}),
    }
    response = aiohttp_jinja2.render_template(template, request, fragment, status=status)
    response.headers.update(FRAGMENT_VARY)
    return response


async def render_error_page(
    request: web.Request, context: dict[str, Any], status: int
) -> web.Response:
    """Error pages render outside the session middleware (a failure may come before it), so
    they read the session without changing it. A fragment request gets the message alone,
    for the script to show where the user acted."""
    if wants_fragment(request):
        response = aiohttp_jinja2.render_template(
            "fragments/problem.html", request, context, status=status
        )
        response.headers.update(FRAGMENT_VARY)
        return response
    token = ""
    if request.get(STORAGE_KEY) is not None:
        token = (await get_session(request)).get(CSRF_SESSION_KEY, "")
    page = {
        "current_user": current_user(request),
        "csrf_token": token,
        "flashes": [],
        "unread_notifications": 0,
        "section": None,
        **_language_choice(request, status),
        **context,
    }
    response = aiohttp_jinja2.render_template("error.html", request, page, status=status)
    response.headers.update(FRAGMENT_VARY)
    return response


def template_filters() -> dict[str, Any]:
    return {
        "iso_time": iso_time,
        "exact_time": exact_time,
        "time_tag": time_tag,
        # A count in the language in use: "12345" is "12.3K", "1.2万" (web.cards.compact).
        "compact": compact,
    }
