"""The OpenAPI document of Snapline's API (service/openapi.py): a valid OpenAPI 3.1 document,
describing exactly the routes the router serves under /api/snapline/v1, each with the
credentials the service asks for it; and served, to anyone, at its own route.

What the running service answers is held to the document by
tests/test_openapi_conformance.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import web
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from service import scopes
from service.api.common import MAX_DURATION_SECONDS
from service.app import create_app
from service.keys import route_scopes_key
from service.openapi import BASE_PATH, DOCUMENT, MAX_MUTE_SECONDS
from service.settings import load_settings
from service.web.csrf import SAFE_METHODS

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Token schemes: a personal access token and an OAuth token ask the same scopes.
TOKEN_SCHEMES = ("bearer", "oauth2")


@pytest.fixture(scope="module")
def app() -> web.Application:
    """The application as configured by default: its router, never started."""
    return create_app(load_settings(env={}))


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of the document by (METHOD, full path)."""
    return {
        (method.upper(), BASE_PATH + path): operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def api_routes(app: web.Application) -> dict[tuple[str, str], web.AbstractRoute]:
    """The router's routes under the API's prefix; HEAD is aiohttp's own beside each GET."""
    found = {}
    for route in app.router.routes():
        info = route.get_info()
        path = info.get("formatter") or info.get("path", "")
        if path.startswith(BASE_PATH + "/") and route.method != "HEAD":
            found[(route.method, path)] = route
    return found


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)
    # Every reference resolves within the document.
    references = set(_references(DOCUMENT))
    assert references
    for reference in references:
        node: Any = DOCUMENT
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]


def _references(node: Any):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def test_every_route_of_the_api_is_in_the_document_and_nothing_else(app):
    routed = set(api_routes(app))
    documented = set(operations())
    assert routed - documented == set(), "routes the document does not describe"
    assert documented - routed == set(), "operations the service does not serve"
    assert len(routed) > 20


def test_each_operation_asks_for_the_credentials_the_service_does(app):
    """Token scopes are TOKEN_SCOPES' (deny by default: a route it does not list names no
    token scheme); changes made with the session carry the CSRF token."""
    route_scopes = app[route_scopes_key]
    declared = route_scopes.declared()
    names = {
        resource.canonical: resource.name
        for resource in app.router.resources()
        if resource.name is not None
    }
    for (method, path), route in api_routes(app).items():
        operation = operations()[(method, path)]
        name = route.name or names[route.resource.canonical]
        required = declared.get((method, name))
        security = operation["security"]
        token_scopes = [
            requirement[scheme]
            for requirement in security
            for scheme in TOKEN_SCHEMES
            if scheme in requirement
        ]
        if required is None:
            assert token_scopes == [], (method, path, "takes no token")
        else:
            expected = [list(required)] if required else [[]]
            assert token_scopes == expected * len(TOKEN_SCHEMES), (method, path)
        for requirement in security:
            if "session" in requirement:
                assert ("csrf" in requirement) == (method not in SAFE_METHODS), (method, path)


def test_every_answer_lists_all_its_fields_and_only_those():
    """Each object the service answers, at any depth: every field required, no other
    allowed, so an answer with a field the document lacks fails the conformance test."""
    objects = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                objects.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOCUMENT["components"]["schemas"])
    assert len(objects) >= len(DOCUMENT["components"]["schemas"])
    for shape in objects:
        assert shape["additionalProperties"] is False, shape
        assert sorted(shape["required"]) == sorted(shape["properties"]), shape


def test_every_scope_named_is_a_scope_the_service_knows():
    flows = DOCUMENT["components"]["securitySchemes"]["oauth2"]["flows"]
    for flow in flows.values():
        assert set(flow["scopes"]) == scopes.KNOWN
    for operation in operations().values():
        for requirement in operation["security"]:
            for scheme in TOKEN_SCHEMES:
                assert set(requirement.get(scheme, [])) <= scopes.KNOWN


def test_the_limits_stated_are_the_services():
    assert MAX_MUTE_SECONDS == MAX_DURATION_SECONDS


async def test_the_document_is_served_to_anyone(client, factory, login):
    """Anonymously, and with a session or even a token that is not one: the same bytes,
    asking no database."""
    anonymous = await client.get(f"{BASE_PATH}/openapi.json")
    assert anonymous.status == 200
    assert anonymous.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "public" in anonymous.headers["Cache-Control"]
    assert orjson.loads(await anonymous.read()) == DOCUMENT
    await login(client, await factory.user())
    for headers in ({}, {"Authorization": "Bearer no-such-token"}):
        again = await client.get(f"{BASE_PATH}/openapi.json", headers=headers)
        assert again.status == 200
        assert await again.read() == await anonymous.read()
