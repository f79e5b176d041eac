"""A private PostgreSQL that this test stops and starts: 503 while it is down, and full
recovery without restarting the app once it is back."""

from __future__ import annotations

import asyncio

from service import migrate
from service.app import create_app
from service.embedded_pg import EmbeddedPostgres
from tests.support import submit
from tests.test_login import is_logged_in


async def test_database_outage_answers_503_and_recovers(aiohttp_client, settings, tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", durable=False)
    url = await asyncio.to_thread(server.start)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        client = await aiohttp_client(create_app(settings.replace(database={"url": url})))
        response = await submit(
            client,
            "/signup",
            {
                "username": "outage_user",
                "email": "outage@example.com",
                "password": "plum-kettle-41",
            },
            page="/signup",
        )
        assert response.status == 303
        response = await submit(
            client,
            "/login",
            {"login": "outage_user", "password": "plum-kettle-41"},
            page="/login",
        )
        assert response.status == 303
        assert await is_logged_in(client)

        await asyncio.to_thread(server.stop)
        page = await client.get("/")
        assert page.status == 503
        assert int(page.headers["Retry-After"]) > 0
        assert "temporarily unavailable" in await page.text()
        api = await client.get("/", headers={"Accept": "application/json"})
        assert api.status == 503
        assert (await api.json())["error"]["code"] == "unavailable"
        assert (await client.get("/readyz")).status == 503
        assert (await client.get("/healthz")).status == 200

        await asyncio.to_thread(server.start)
        assert (await client.get("/readyz")).status == 200
        assert await is_logged_in(client)
    finally:
        await asyncio.to_thread(server.discard)
