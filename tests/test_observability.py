"""Metrics and structured logs."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from service.app import create_app
from service.observability import JsonFormatter, current_request_id
from service.settings import SettingsError

METRIC = "snapline_http_request_duration_seconds"
OUTSIDER = "203.0.113.9"


async def test_metrics_count_requests_by_route_template_not_path(client, factory, login):
    account = await factory.user()
    await login(client, account)
    for path in (f"/@{account.username}", "/@nobody_here_at_all", "/p/123456789"):
        await client.get(path)
    response = await client.get("/metrics")
    assert response.status == 200
    body = await response.text()
    assert 'route="profile"' in body and 'route="post"' in body
    assert account.username not in body and "nobody_here_at_all" not in body
    assert "snapline_http_requests_in_flight" in body
    assert "snapline_live_streams" in body
    assert 'snapline_job_queue_depth{queue="mail"}' in body


def test_log_lines_are_json_with_the_request_id():
    record = logging.LogRecord(
        "service.test", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    token = current_request_id.set("req-12345678")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["message"] == "hello you"
    assert line["level"] == "warning" and line["request_id"] == "req-12345678"


async def metrics_status(aiohttp_client, settings, headers=None, **server) -> int:
    """The status of GET /metrics from 127.0.0.1, with these server settings."""
    client = await aiohttp_client(create_app(settings.replace(server=server)))
    response = await client.get("/metrics", headers=headers or {})
    body = await response.text()
    assert (METRIC in body) == (response.status == 200)
    return response.status


async def test_metrics_are_only_for_the_listed_peers(aiohttp_client, settings):
    assert await metrics_status(aiohttp_client, settings) == 200  # loopback, by default
    assert await metrics_status(aiohttp_client, settings, metrics_allow=("10.0.0.0/8",)) == 404
    # Refused like an unknown page, in HTML or JSON: nothing says the route exists.
    assert (
        await metrics_status(
            aiohttp_client, settings, {"Accept": "application/json"}, metrics_allow=("::1",)
        )
        == 404
    )


async def test_metrics_judge_the_client_a_trusted_proxy_names(aiohttp_client, settings):
    via_proxy = {"trusted_proxies": ("127.0.0.1",)}
    outsider = {"X-Forwarded-For": OUTSIDER}
    # nginx on this machine passing on a request from outside: refused.
    assert await metrics_status(aiohttp_client, settings, outsider, **via_proxy) == 404
    assert (
        await metrics_status(
            aiohttp_client, settings, {"X-Forwarded-For": "127.0.0.5"}, **via_proxy
        )
        == 200
    )
    # A forged header from a peer nobody trusts changes nothing...
    allow_outsider = {"metrics_allow": (f"{OUTSIDER}/32",)}
    assert await metrics_status(aiohttp_client, settings, outsider, **allow_outsider) == 404
    # ...and even a believed one does not admit a peer that is not listed itself.
    assert (
        await metrics_status(
            aiohttp_client, settings, outsider, trusted_proxies=("*",), **allow_outsider
        )
        == 404
    )


@pytest.mark.parametrize(
    ("server", "headers", "status"),
    [
        ({}, {}, 200),  # unix-socket peers are local, and allowed by default
        ({"metrics_allow": ("127.0.0.0/8", "::1")}, {}, 404),
        ({"trusted_proxies": ("*",)}, {"X-Forwarded-For": OUTSIDER}, 404),  # nginx on a socket
    ],
)
async def test_metrics_on_a_unix_socket(settings, server, headers, status):
    runner = web.AppRunner(create_app(settings.replace(server=server)))
    await runner.setup()
    # A short directory: a socket path may not exceed about a hundred bytes.
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "app.sock")
        try:
            await web.UnixSite(runner, path).start()
            connector = aiohttp.UnixConnector(path=path)
            async with (
                aiohttp.ClientSession(connector=connector) as http,
                http.get("http://app/metrics", headers=headers) as response,
            ):
                assert response.status == status
                assert (METRIC in await response.text()) == (status == 200)
        finally:
            await runner.cleanup()


@pytest.mark.parametrize("entry", ["localhost", "10.0.0.0/33", "*", ""])
def test_metrics_allow_refuses_what_is_not_an_address(settings, entry):
    with pytest.raises(SettingsError, match="metrics_allow"):
        settings.replace(server={"metrics_allow": (entry,)})
