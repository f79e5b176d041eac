"""The route map: `python -m service routes` lists every route, docs/routes.md shows the same
table, and every page a link can point at has a name to build its URL from."""

from __future__ import annotations

import re

from service.app import create_app
from service.routemap import render, route_lines
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
