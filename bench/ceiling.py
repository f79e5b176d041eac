"""The yardstick for the timeline benchmark: the least a web process must do to answer one
reader's home timeline as JSON, and nothing else.

    .venv/bin/python bench/ceiling.py --database-url postgresql://... --viewer 123 --port 8099

``GET /timeline`` runs the very statement that serves the service's timeline page
(``reads.posts.HOME``: the page's posts with everything a
card shows, in one round trip) for the fixed ``--viewer``, first page, on one pooled
asyncpg connection, and encodes the rows with orjson, as the service's API does: no session
cookie, no user lookup, no ORM, no template, no middleware. Its pool is set up as the
service's read pool is (generic plans, the page size written into the statement, no reset
round trip on release), so it gets every advantage the service's database access has.
Whatever requests/s it reaches on the same data and the same cores is the ceiling the
service's own timeline is measured against (bench/timeline_http.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import asyncpg
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service import cursor, db
from service.reads import posts
from service.reads.paging import NEWEST_FIRST
from service.settings import DatabaseSettings

# The service's read pool size, so both sides get the same database concurrency.
POOL_CONNECTIONS = DatabaseSettings.read_pool_size
# The default page of 20, plus the row that says there is a next page.
PAGE_POSTS = 20
TIMELINE = posts.HOME.rows(PAGE_POSTS + 1).sql

pool_key = web.AppKey("pool", asyncpg.Pool)
viewer_key = web.AppKey("viewer", int)


def post_json(row: asyncpg.Record) -> dict[str, object]:
    """What the API shows of a post, straight from the row: orjson writes the times."""
    (
        post_id, _author_id, username, display_name, avatar_key,
        body, status, created_at, published_at, like_count, comment_count, liked,
        prefixes, extensions, widths, heights, alts, _photo_ids, _status_id,
        renditions, blurhashes, sensitive, audience, _restricted, _mention_names, _mention_ids,
        _views,
    ) = row[: posts.CARD_COLUMNS]  # fmt: skip
    photos = [
        {
            "key": f"{prefix}.{extension}",
            "width": width,
            "height": height,
            "alt": alt,
            "renditions": widths_json,  # as stored: the least a process can do with them
            "blurhash": blurhash,
        }
        for prefix, extension, width, height, alt, widths_json, blurhash in zip(
            prefixes or (),
            extensions or (),
            widths or (),
            heights or (),
            alts or (),
            renditions or (),
            blurhashes or (),
            strict=True,
        )
    ]
    return {
        "id": post_id,
        "url": f"/p/{post_id}",
        "author": {"username": username, "display_name": display_name, "avatar": avatar_key},
        "body": body,
        "status": status,
        "created_at": created_at,
        "published_at": published_at,
        "like_count": like_count,
        "comment_count": comment_count,
        "liked": liked,
        "photos": photos,
        "sensitive": sensitive,
        "audience": audience,
    }


async def timeline(request: web.Request) -> web.Response:
    async with request.app[pool_key].acquire() as connection:
        rows = await connection.fetch(
            TIMELINE, request.app[viewer_key], NEWEST_FIRST.at, NEWEST_FIRST.id
        )
    kept = rows[:PAGE_POSTS]
    next_cursor = None
    if len(rows) > PAGE_POSTS:
        last = kept[-1]
        next_cursor = cursor.encode(cursor.Position(last["published_at"], last["id"]))
    items = [post_json(row) for row in kept]
    return web.Response(
        body=orjson.dumps({"items": items, "next_cursor": next_cursor}),
        content_type="application/json",
    )


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
