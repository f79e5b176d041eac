"""A real S3 server for tests: moto in server mode on a loopback port chosen first, so it can
be stopped and started again on the same address; and a proxy that delays every request,
to play a slow storage service."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioboto3
import aiohttp
import pytest
from aiohttp import web
from moto.server import ThreadedMotoServer

from service.embedded_pg import free_port
from service.settings import Settings
from service.storage.backends import s3_config

ACCESS_KEY = "snapline-test"
SECRET_KEY = "snapline-test-secret"
REGION = "us-east-1"


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._server: ThreadedMotoServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket, so connections are refused (as with
        a storage server that is down) rather than left waiting."""
        if self._server is None:
            return
        self._server.stop()
        wsgi = self._server._server
        if wsgi is not None:
            wsgi.server_close()
        self._server = None


def s3_settings(settings: Settings, endpoint: str, bucket: str, **extra: str) -> Settings:
    return settings.replace(
        storage={
            "backend": "s3",
            "s3_endpoint_url": endpoint,
            "s3_bucket": bucket,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            "s3_public_url": "",
            **extra,
        }
    )


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The same, as environment variables for a ``python -m service serve`` process."""
    return {
        "SNAPLINE_STORAGE_BACKEND": "s3",
        "SNAPLINE_STORAGE_S3_ENDPOINT_URL": endpoint,
        "SNAPLINE_STORAGE_S3_BUCKET": bucket,
        "SNAPLINE_STORAGE_S3_REGION": REGION,
        "SNAPLINE_STORAGE_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "SNAPLINE_STORAGE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
    }


class Bucket:
    """Direct access to a test bucket, to see what the service stored."""

    def __init__(self, endpoint: str, name: str) -> None:
        self.endpoint = endpoint
        self.name = name

    def _client(self) -> Any:
        session = aioboto3.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )
        return session.client("s3", endpoint_url=self.endpoint, config=s3_config())

    async def create(self) -> None:
        async with self._client() as client:
            await client.create_bucket(Bucket=self.name)

    async def keys(self) -> list[str]:
        found: list[str] = []
        async with self._client() as client:
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.name):
                found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    async def get(self, key: str) -> tuple[bytes, str]:
        async with self._client() as client:
            answer = await client.get_object(Bucket=self.name, Key=key)
            async with answer["Body"] as body:
                return await body.read(), answer["ContentType"]

    async def delete(self, key: str) -> None:
        async with self._client() as client:
            await client.delete_object(Bucket=self.name, Key=key)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def bucket(moto_server: MotoServer) -> Bucket:
    created = Bucket(moto_server.url, f"snapline-{secrets.token_hex(6)}")
    await created.create()
    return created


class DelayProxy:
    """Forwards every request (or those with one of ``methods``) to ``upstream`` after
    sleeping ``delay_seconds``."""

    def __init__(
        self, upstream: str, delay_seconds: float, methods: frozenset[str] | None = None
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay_seconds = delay_seconds
        self.methods = methods
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _forward(self, request: web.Request) -> web.Response:
        if self.methods is None or request.method in self.methods:
            await asyncio.sleep(self.delay_seconds)
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host"}}
        async with self._http.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            passed = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in {"content-length", "transfer-encoding", "connection"}
            }
            return web.Response(status=answer.status, body=body, headers=passed)

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        # A request whose client gave up is cancelled, not left sleeping until stop().
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()


@pytest.fixture
async def slow_s3(moto_server: MotoServer) -> AsyncIterator[DelayProxy]:
    proxy = DelayProxy(moto_server.url, 0.5)
    await proxy.start()
    yield proxy
    await proxy.stop()
