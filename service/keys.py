"""Typed keys for everything stored on the application and the request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import aiojobs
import asyncpg
import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

if TYPE_CHECKING:
    pass

settings_key = web.AppKey("settings", "Settings")
engine_key = web.AppKey("engine", AsyncEngine)
sessionmaker_key = web.AppKey("sessionmaker", async_sessionmaker)
read_pool_key = web.AppKey("read_pool", asyncpg.Pool)
cpu_executor_key = web.AppKey("cpu_executor", ThreadPoolExecutor)
passwords_key = web.AppKey("passwords", "PasswordService")
scheduler_key = web.AppKey("scheduler", aiojobs.Scheduler)
mail_worker_key = web.AppKey("mail_worker", "MailWorker")
mail_templates_key = web.AppKey("mail_templates", jinja2.Environment)
live_hub_key = web.AppKey("live_hub", "LiveHub")
storage_key = web.AppKey("storage", "Storage")
media_worker_key = web.AppKey("media_worker", "MediaWorker")
account_worker_key = web.AppKey("account_worker", "AccountWorker")
liveness_key = web.AppKey("liveness", "Liveness")
spool_dir_key = web.AppKey("spool_dir", Path)
pixel_budget_key = web.AppKey("pixel_budget", "PixelBudget")

session_cache_key = web.AppKey("session_cache", "SessionCache")
token_cache_key = web.AppKey("token_cache", "TokenCache")
token_limits_key = web.AppKey("token_limits", "TokenLimits")
# Post views counted in memory, flushed every few seconds (workers/viewcounts.py).
view_counter_key = web.AppKey("view_counter", "ViewCounter")
# What each route asks of a bearer token (routes.TOKEN_SCOPES), see web/tokens.py.
route_scopes_key = web.AppKey("route_scopes", "RouteScopes")
current_user_key = web.RequestKey("current_user", "SessionUser | None")
auth_session_hash_key = web.RequestKey("auth_session_hash", "bytes | None")
# The bearer token a request came with, when it came with one (never with the cookie too).
bearer_key = web.RequestKey("bearer", "TokenGrant | None")
request_id_key = web.RequestKey("request_id", str)
# The client's address as a trusted proxy forwarded it, for the access log.
client_address_key = web.RequestKey("client_address", str)
