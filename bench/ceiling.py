"""The yardstick for the timeline benchmark: the least a web process must do to answer one
reader's home timeline as JSON, and nothing else.

    .venv/bin/python bench/ceiling.py --database-url postgresql://... --viewer 123 --port 8099

``GET /timeline`` runs the service's own home timeline statement (``feeds.HOME_TIMELINE``)
for the fixed ``--viewer``, first page, then fetches that page's rows with their authors,
on one pooled asyncpg connection: no session cookie, no user lookup, no ORM, no template,
no middleware. Its pool is set up as the service's read pool is (generic plans, the page
size written into the statement, no reset round trip on release), so it gets every
advantage the service's database access has. Whatever requests/s it reaches on the same
data and the same cores is the ceiling the service's own timeline is measured against
(bench/timeline_http.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import cursor, db
from service.domain.feeds import HOME_TIMELINE, START, positional
from service.domain.pages import PAGE_PARAMETERS
from service.settings import DatabaseSettings

# The service's read pool size, so both sides get the same database concurrency.
POOL_CONNECTIONS = DatabaseSettings.read_pool_size
# The default page of 20, plus the row that says there is a next page.
PAGE_POSTS = 20
TIMELINE = positional(HOME_TIMELINE, PAGE_PARAMETERS, n=PAGE_POSTS + 1)

PAGE_ROWS = """
    SELECT p.id, p.body, p.created_at, p.published_at, p.like_count, p.comment_count,
           u.username, u.display_name
      FROM posts p JOIN users u ON u.id = p.author_id
     WHERE p.id = ANY($1::bigint[])
"""

pool_key = web.AppKey("pool", asyncpg.Pool)
viewer_key = web.AppKey("viewer", int)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_json(row: asyncpg.Record) -> dict[str, object]:
    return {
        "id": row["id"],
        "url": f"/p/{row['id']}",
        "author": {"username": row["username"], "display_name": row["display_name"]},
        "body": row["body"],
        "created_at": iso(row["created_at"]),
        "published_at": iso(row["published_at"]),
        "like_count": row["like_count"],
        "comment_count": row["comment_count"],
    }


async def timeline(request: web.Request) -> web.Response:
    async with request.app[pool_key].acquire() as connection:
        found = await connection.fetch(TIMELINE, request.app[viewer_key], START.at, START.id)
        kept = found[:PAGE_POSTS]
        rows = await connection.fetch(PAGE_ROWS, [row["id"] for row in kept])
    by_id = {row["id"]: row for row in rows}
    next_cursor = None
    if len(found) > PAGE_POSTS:
        last = kept[-1]
        next_cursor = cursor.encode(cursor.Position(last["published_at"], last["id"]))
    items = [post_json(by_id[row["id"]]) for row in kept if row["id"] in by_id]
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(database_url: str, viewer: int) -> web.Application:
    async def pool_ctx(app: web.Application):
        app[pool_key] = await db.create_read_pool(database_url, POOL_CONNECTIONS)
        yield
        await app[pool_key].close()

    app = web.Application()
    app[viewer_key] = viewer
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/timeline", timeline)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="asyncpg DSN")
    parser.add_argument("--viewer", type=int, required=True, help="the reader's user id")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # Like the service under test: the default event loop, one process, no access log.
    web.run_app(
        create_app(arguments.database_url, arguments.viewer),
        host="127.0.0.1",
        port=arguments.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
