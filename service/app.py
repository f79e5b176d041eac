"""The application factory: pure, no I/O. Resources are opened by cleanup contexts when the
application starts, in dependency order, and closed in reverse."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import aiojobs
from aiohttp import web

from service import housekeeping, live, observability, routes
from service.db import database_ctx
from service.handlers.token_limits import token_limits_ctx, token_limits_middleware
from service.keys import (
    cpu_executor_key,
    mail_templates_key,
    passwords_key,
    scheduler_key,
    session_cache_key,
    settings_key,
    token_cache_key,
)
from service.observability import metrics_middleware
from service.reads.session_cache import SessionCache
from service.reads.token_cache import TokenCache
from service.routes import STATIC_DIR
from service.security import PasswordService
from service.settings import PROJECT_ROOT, Settings
from service.web.auth import current_user_middleware, session_cookie_middleware
from service.web.cors import cors_headers, cors_preflight_middleware
from service.web.csrf import csrf_middleware
from service.web.errors import error_middleware
from service.web.forwarded import forwarded_middleware
from service.web.headers import hide_server_software, security_headers
from service.web.language import content_language, language_middleware
from service.web.readable import readable_headers_middleware
from service.web.static import static_files_middleware
from service.web.templating import setup_templates
from service.workers import accounts, mail, trends, viewcounts
from service.workers.liveness import liveness_ctx
from service.workers.media import context as media_context

TEMPLATES_DIR = PROJECT_ROOT / "templates"
# Password hashing and, later, image work: two cores, so two threads keep both busy
# without starving the event loop's own thread.
CPU_WORKERS = 2
# Jobs still running at shutdown get this long before they are cancelled.
JOBS_CLOSE_TIMEOUT_SECONDS = 5.0

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def logged(stopped: str, context: CleanupContext) -> CleanupContext:
    """The same cleanup context, saying what it stopped: shutdown is told step by step."""

    async def logged_context(app: web.Application) -> AsyncIterator[None]:
        async for _ in context(app):
            yield
        log.info(stopped)

    return logged_context


def logged_step(message: str) -> Callable[[web.Application], Awaitable[None]]:
    async def step(app: web.Application) -> None:
        log.info(message)

    return step


async def executor_ctx(app: web.Application) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="cpu")
    app[cpu_executor_key] = executor
    app[passwords_key] = PasswordService(app[settings_key].security, executor)
    yield
    executor.shutdown(wait=True, cancel_futures=True)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    scheduler = aiojobs.Scheduler(close_timeout=JOBS_CLOSE_TIMEOUT_SECONDS)
    app[scheduler_key] = scheduler
    yield
    await scheduler.close()


def create_app(settings: Settings) -> web.Application:
    # Order matters: unreadable headers are dropped first, before anything reads one; then
    # metrics, to time and count every answer as sent; then errors, so every failure below
    # becomes a clean page with a request id; browsers' cross-origin preflights, which
    # carry no credentials, before anything asks for them; forwarded headers before
    # anything reads the client address or scheme; the session before the user lookup that
    # reads it (or the bearer token); the token's rate limits once the token is known; CSRF
    # once the session is known; the static files' check last, inside the error pages.
    # Security and cross-origin headers are added to every prepared response by signals,
    # error pages included.
    app = web.Application(
        middlewares=[
            readable_headers_middleware,
            metrics_middleware,
            error_middleware,
            cors_preflight_middleware,
            *forwarded_middleware(settings.server.trusted_proxies),
            session_cookie_middleware(settings),
            current_user_middleware,
            language_middleware,
            token_limits_middleware,
            csrf_middleware,
            static_files_middleware(STATIC_DIR, remember=settings.app.env != "dev"),
        ]
    )
    app[settings_key] = settings
    app[mail_templates_key] = mail.mail_templates()
    # Filled by requests, emptied by the live listener's announcements (live.py).
    app[session_cache_key] = SessionCache()
    app[token_cache_key] = TokenCache()
    setup_templates(app, TEMPLATES_DIR, development=settings.app.env == "dev")
    app.on_response_prepare.append(security_headers(settings.is_https))
    app.on_response_prepare.append(cors_headers)
    app.on_response_prepare.append(content_language)
    hide_server_software()
    # Dependency order: database, object storage, executors, job scheduler, then workers
    # using them.
    app.cleanup_ctx.extend(
        [
            logged("database pools closed", database_ctx),
            logged("storage client closed", media_context.storage_ctx),
            logged("executor stopped", executor_ctx),
            logged("request jobs finished or cancelled", scheduler_ctx),
            logged("rate-limit counts flushed", token_limits_ctx),
            logged("view counts flushed", viewcounts.view_counter_ctx),
            logged("worker lock released", liveness_ctx),
            logged("mail worker stopped; unsent mail stays queued", mail.mail_ctx),
            logged("housekeeping stopped", housekeeping.housekeeping_ctx),
            logged("trending job stopped", trends.trends_ctx),
            logged("live listener stopped", live.live_ctx),
            logged("queue metrics stopped", observability.queue_metrics_ctx),
            logged(
                "media worker stopped; unfinished photo jobs handed back",
                media_context.media_worker_ctx,
            ),
            logged(
                "account worker stopped; unfinished archives and removals handed back",
                accounts.account_worker_ctx,
            ),
        ]
    )
    app.on_shutdown.extend(
        [
            logged_step("stopped listening; closing live streams"),
            live.close_streams,
            logged_step("live streams closed; waiting for requests in progress"),
        ]
    )
    routes.add_routes(app, settings)
    return app
