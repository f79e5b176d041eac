"""Metrics and structured logs."""

from __future__ import annotations

import json
import logging

from service.observability import JsonFormatter, current_request_id


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
