"""A thin client for the JSON API as the pages' JavaScript uses it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.support import csrf_for


class Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._token: str | None = None

    async def token(self) -> str:
        if self._token is None:
            self._token = await csrf_for(self.client)
        return self._token

    async def call(self, method: str, path: str, json: Any = None, expect: int | None = None):
        headers = {"Accept": "application/json"}
        if method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = await self.token()
        response = await self.client.request(method, path, json=json, headers=headers)
        if expect is not None:
            assert response.status == expect, (response.status, await response.text())
        return response

    async def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = await self.client.get(
            path, params=params, headers={"Accept": "application/json"}
        )
        assert response.status == expect, (response.status, await response.text())
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return await response.json()

    async def post_text(self, body: str) -> dict:
        return await (
            await self.call("POST", "/api/snapline/v1/posts", {"body": body}, expect=201)
        ).json()

    async def follow(self, username: str) -> dict:
        return await (
            await self.call("POST", f"/api/snapline/v1/users/{username}/follow", expect=200)
        ).json()

    async def unfollow(self, username: str) -> dict:
        return await (
            await self.call("DELETE", f"/api/snapline/v1/users/{username}/follow", expect=200)
        ).json()

    async def all_pages(self, path: str, limit: int = 20) -> list[dict]:
        items, cursor = [], None
        while True:
            params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            page = await self.get(path, **params)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items
