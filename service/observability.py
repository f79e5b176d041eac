"""Structured logs and Prometheus metrics.

Logs: one JSON object per line on stderr; every line written while a request is handled
carries its request id (a context variable, inherited by jobs spawned from the request).
The access log is one line per request with method, route name, status and duration.

Metrics on /metrics, only for the peers in server.metrics_allow (web/metrics_access.py;
nginx hides it too): a request histogram labelled by route *template*, never by raw path
(unbounded label values would exhaust Prometheus), requests in flight, background queue
depth and age, job failures, and open live streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text

from service.keys import (
    client_address_key,
    live_hub_key,
    request_id_key,
    scheduler_key,
    sessionmaker_key,
)

log = logging.getLogger(__name__)

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# Seconds between samples of the background queues.
QUEUE_SAMPLE_SECONDS = 15.0

REQUEST_SECONDS = Histogram(
    "snapline_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route", "status"],
)
IN_FLIGHT = Gauge("snapline_http_requests_in_flight", "Requests being handled right now.")
QUEUE_DEPTH = Gauge("snapline_job_queue_depth", "Background jobs waiting.", ["queue"])
QUEUE_AGE = Gauge("snapline_job_queue_oldest_seconds", "Age of the oldest waiting job.", ["queue"])
JOB_FAILURES = Counter("snapline_job_failures_total", "Failed background job attempts.", ["queue"])
LIVE_STREAMS = Gauge("snapline_live_streams", "Open live-update streams in this process.")

# Each queue: how to count its waiting rows and the age of the oldest, in one statement.
QUEUE_QUERIES = {
    "mail": "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM outbox_mail"
    " WHERE sent_at IS NULL AND failed_at IS NULL",
    "media": "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM media_jobs"
    " WHERE done_at IS NULL AND failed_at IS NULL",
    # Due ones only: a removal waits out its owner's grace period, which is no backlog.
    "account": "SELECT count(*), extract(epoch FROM now() - min(next_attempt_at))"
    " FROM account_jobs WHERE done_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("method", "route", "path", "status", "duration_ms", "remote", "scheme"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def route_of(request: web.BaseRequest) -> str:
    """The route's name, or its template; never the raw path."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    if route is None or getattr(match_info, "http_exception", None) is not None:
        return "unmatched"
    if route.name:
        return route.name
    info = route.resource.get_info() if route.resource else {}
    return info.get("formatter") or info.get("path") or info.get("prefix") or "unnamed"


class JsonAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={
                "request_id": request.get(request_id_key, ""),
                "method": request.method,
                "route": route_of(request),
                "path": request.path,
                "status": response.status,
                "duration_ms": round(time * 1000, 2),
                "remote": request.get(client_address_key) or request.remote,
                "scheme": request.headers.get("X-Forwarded-Proto", request.scheme),
            },
        )


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    IN_FLIGHT.inc()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        IN_FLIGHT.dec()
        REQUEST_SECONDS.labels(request.method, route_of(request), str(status)).observe(
            time.perf_counter() - started
        )


async def metrics(request: web.Request) -> web.Response:
    LIVE_STREAMS.set(request.app[live_hub_key].open_streams)
    body = generate_latest()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _sample_queues(app: web.Application, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with app[sessionmaker_key]() as db:
                for queue, query in QUEUE_QUERIES.items():
                    depth, age = (await db.execute(text(query))).one()
                    QUEUE_DEPTH.labels(queue).set(depth)
                    QUEUE_AGE.labels(queue).set(float(age or 0))
        except Exception:
            log.warning("could not sample job queues", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), QUEUE_SAMPLE_SECONDS)


async def queue_metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    job = await app[scheduler_key].spawn(_sample_queues(app, stop))
    yield
    stop.set()
    await job.wait()


# Export every queue from the start, before the first sample.
for _queue in QUEUE_QUERIES:
    QUEUE_DEPTH.labels(_queue)
    QUEUE_AGE.labels(_queue)
