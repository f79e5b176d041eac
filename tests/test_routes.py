"""The route map: `python -m service routes` lists every route, docs/routes.md shows the same
table, and every page a link can point at has a name to build its URL from."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from service.app import create_app
from service.reads.views import avatar_url
from service.routemap import render, route_lines
from service.web.urls import RouteUrls
from tests.test_cli import PROJECT_ROOT, run_command, service_env

ROUTES_DOC = PROJECT_ROOT / "docs" / "routes.md"


def documented_table() -> str:
    match = re.search(r"```text\n(.*?)```", ROUTES_DOC.read_text(), re.S)
    assert match, "docs/routes.md has no ```text block"
    return match.group(1)


def test_docs_routes_md_lists_exactly_the_applications_routes(settings):
    listed = render(route_lines(create_app(settings)))
    assert listed == documented_table(), (
        "routes changed: python -m service routes, then update docs/routes.md"
    )


def test_the_routes_command_prints_the_table(database_url):
    result = run_command("routes", env=service_env(database_url))
    assert result.returncode == 0, result.stderr
    assert result.stdout == documented_table()


def test_every_get_route_has_a_name_to_build_its_url_from(settings):
    gets = [line for line in route_lines(create_app(settings)) if line.method == "GET"]
    assert gets and all(line.name != "-" for line in gets), gets


# What builds a URL in the code must name a route; these string constants only look like
# paths: prefixes a request's path is compared with, and the fallback of a redirect target.
PATH_LIKE_ALLOWED = {
    "service/web/auth.py": {
        "/static/",
        "/media/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/snapline/v1/openapi.json",
    },
    "service/web/cors.py": {"/api/", "/oauth/token", "/oauth/revoke", "/nodeinfo/"},
    "service/web/headers.py": {"/api/"},
    "service/web/problems.py": {"/api/"},
}
LITERAL_PATH = re.compile(r"^/[a-z@]")


def _path_literals(path: Path) -> set[str]:
    """String constants (f-string parts included) that begin like one of our paths, outside
    docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and LITERAL_PATH.match(node.value)
    }


def test_handlers_plumbing_and_serializers_build_urls_from_route_names():
    """Only service/routes.py writes paths out; everything else asks for a route by name."""
    written = {}
    for folder in ("views", "api", "handlers", "web"):
        for path in sorted((PROJECT_ROOT / "service" / folder).rglob("*.py")):
            where = str(path.relative_to(PROJECT_ROOT))
            literals = _path_literals(path) - PATH_LIKE_ALLOWED.get(where, set())
            if literals:
                written[where] = sorted(literals)
    assert written == {}


def test_templates_and_scripts_write_no_paths_of_ours():
    attribute = re.compile(r'\b(?:href|action|src)="/[a-z@]')
    templates = {
        str(path.relative_to(PROJECT_ROOT)): attribute.findall(path.read_text())
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
    }
    assert {name: found for name, found in templates.items() if found} == {}
    script_literal = re.compile(r"""["'`]/[a-z@]""")
    scripts = {
        str(path.relative_to(PROJECT_ROOT)): script_literal.findall(path.read_text())
        for path in sorted((PROJECT_ROOT / "service" / "static").glob("*.js"))
    }
    assert {name: found for name, found in scripts.items() if found} == {}


def test_urls_built_below_the_routes_match_the_routes(settings):
    """Avatar URLs are made in the read layer, below the routes: they must be the ones the
    routes answer."""
    app = create_app(settings)
    urls = RouteUrls(app.router)
    key = "avatars/" + "0" * 32 + "/64.jpg"
    assert avatar_url("ann", key) == urls("media", key=key)
    assert app.router["media"].url_for(key=key).path == avatar_url("ann", key)
    generated = avatar_url("ann")
    digest = generated.removeprefix("/identicons/").removesuffix(".svg")
    assert (
        generated
        == urls("identicon", digest=digest)
        == str(app.router["identicon"].url_for(digest=digest))
    )
    assert urls("post", id=7) == str(app.router["post"].url_for(id="7")) == "/p/7"
    assert urls("login", {"next": "/p/7"}) == "/login?next=%2Fp%2F7"


def test_snaplines_own_api_is_served_under_its_own_prefix_only(settings):
    """SPEC §4: one release moves Snapline's JSON API to /api/snapline/v1; /api/v1 and
    /api/v2 then belong to the Mastodon client API, so no handler of service/api answers
    there."""
    lines = route_lines(create_app(settings))
    own = [line for line in lines if line.handler.startswith("service.api.")]
    assert own and all(line.path.startswith("/api/snapline/v1/") for line in own), own
    under_mastodon_prefixes = [
        line for line in own if line.path.startswith(("/api/v1/", "/api/v2/"))
    ]
    assert under_mastodon_prefixes == []


async def test_the_old_prefix_no_longer_answers_with_snaplines_shapes(client, factory):
    author = await factory.user()
    post_id = await factory.post(author)
    for path in ("/api/v1/explore", "/api/v1/timeline", f"/api/v1/posts/{post_id}"):
        response = await client.get(path)
        assert response.status == 404, path
    moved = await client.get("/api/snapline/v1/explore")
    assert moved.status == 200
    assert (await moved.json())["items"][0]["id"] == post_id
