"""The media worker across real processes: ``python -m service serve`` killed with SIGKILL
mid-work and started again, two processes sharing one database, a graceful stop; and, in
process, a job given back when the app stops in the middle of it."""

from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import delete, func, select, update

from service.embedded_pg import free_port
from service.models import MediaJob, Photo, Post
from service.ops import renditions as backfill
from tests import s3
from tests.s3 import DelayProxy, s3_env, s3_settings
from tests.support import CSRF_META
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, service_env, wait_until_healthy
from tests.test_uploads import api_upload, photo_form

moto_server = s3.moto_server
bucket = s3.bucket
# Every storage request of the servers under test waits this long, so jobs are still in
# progress when a test kills or stops a process.
STORAGE_DELAY_SECONDS = 0.5
PUBLISH_TIMEOUT_SECONDS = 30.0


def small_png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), (shade, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


class Served:
    """One ``python -m service serve`` process on a port of its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **env,
            "SNAPLINE_SERVER_PORT": str(self.port),
            "SNAPLINE_APP_PUBLIC_URL": self.base,
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            # Popen only forks; waiting for the process to answer is done without blocking.
            self.process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "service", "serve", "--no-migrate"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        await wait_until_healthy(self.base, self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_SECONDS)

    async def terminate(self) -> float:
        """SIGTERM; returns how long the process took to exit (it must exit cleanly)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(self.process.wait, STOP_TIMEOUT_SECONDS)
        assert code == 0, self.log_path.read_text()[-3000:]
        return time.monotonic() - started


@pytest.fixture
async def storage_proxy(moto_server):
    proxy = DelayProxy(moto_server.url, STORAGE_DELAY_SECONDS)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
def serve(database_url, tmp_path, storage_proxy, bucket):
    started: list[Served] = []

    def make() -> Served:
        env = service_env(
            database_url,
            SNAPLINE_MAIL_BACKEND="file",
            SNAPLINE_MAIL_FILE_PATH=str(tmp_path / "mail"),
            **s3_env(storage_proxy.url, bucket.name),
        )
        served = Served(env, tmp_path / f"serve-{len(started)}.log")
        started.append(served)
        return served

    yield make
    for served in started:
        served.kill()


async def log_in(http: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with http.get(f"{base}/login") as page:
        token = CSRF_META.search(await page.text()).group(1)
    form = {"csrf_token": token, "login": username, "password": password}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    async with http.get(f"{base}/") as home:
        return CSRF_META.search(await home.text()).group(1)


async def upload(http: aiohttp.ClientSession, base: str, token: str, shades: list[int]) -> int:
    photos = [(f"{shade}.png", small_png(shade), "image/png") for shade in shades]
    async with http.post(
        f"{base}/api/snapline/v1/posts",
        data=photo_form(photos, "from a test"),
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    ) as answer:
        assert answer.status == 202, await answer.text()
        return (await answer.json())["id"]


async def wait_until_published(db, post_ids: list[int]) -> None:
    deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        async with db() as session:
            statuses = list(await session.scalars(select(Post.status).where(Post.id.in_(post_ids))))
        if statuses == ["published"] * len(post_ids):
            return
        assert "failed" not in statuses
        await asyncio.sleep(0.1)
    raise AssertionError(f"not all published: {statuses}")


async def jobs_of(db, post_ids: list[int]) -> list[MediaJob]:
    async with db() as session:
        photo_ids = select(Photo.id).where(Photo.post_id.in_(post_ids))
        return list(await session.scalars(select(MediaJob).where(MediaJob.photo_id.in_(photo_ids))))


def http_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=20)
    )


async def test_a_killed_process_loses_no_accepted_upload(serve, factory, db, bucket):
    account = await factory.user()
    first = serve()
    await first.start()
    async with http_session() as http:
        token = await log_in(http, first.base, account.username, account.password)
        post_ids = [await upload(http, first.base, token, [n, n + 1]) for n in range(0, 6, 2)]
    first.kill()
    jobs = await jobs_of(db, post_ids)
    assert len(jobs) == 6 and any(job.done_at is None for job in jobs), "nothing was pending"

    second = serve()
    await second.start()
    await wait_until_published(db, post_ids)
    keys = await bucket.keys()
    # display, thumb and one width (200 px: its own) per photo, none twice; each photo
    # records the width it has, at its true size, with its BlurHash, whichever process
    # rendered it and however many times.
    assert len(keys) == len(set(keys)) == 18
    async with db() as session:
        photos = (
            await session.execute(
                select(Photo.key_prefix, Photo.renditions, Photo.blurhash).where(
                    Photo.post_id.in_(post_ids)
                )
            )
        ).all()
    assert len(photos) == 6
    for prefix, widths, blurhash in photos:
        assert widths == [{"width": 200, "height": 150, "format": "webp"}]
        assert f"{prefix}/w200.webp" in keys and blurhash
    assert all(job.failed_at is None for job in await jobs_of(db, post_ids))
    assert await second.terminate() < STOP_TIMEOUT_SECONDS

    # The same photos as if processed before widths existed, their widths queued by the
    # backfill: a process killed in the middle of making them loses none either.
    async with db.begin() as session:
        await session.execute(
            update(Photo).where(Photo.post_id.in_(post_ids)).values(renditions=None, blurhash=None)
        )
    for prefix, _, _ in photos:
        await bucket.delete(f"{prefix}/w200.webp")
    await backfill.backfill(db, apply=True)
    # Each of these photos queued once (photos other tests left may be queued with them).
    ours = {photo_id for (photo_id,) in await photo_ids_of(db, post_ids)}
    assert sorted(job.photo_id for job in await renditions_jobs(db) if job.photo_id in ours) == (
        sorted(ours)
    )
    third = serve()
    await third.start()
    await wait_for_claims(db)
    third.kill()
    backfills = await renditions_jobs(db)
    assert any(job.done_at is None for job in backfills), "nothing was pending"
    fourth = serve()
    await fourth.start()
    await wait_for_widths(db, post_ids)
    assert sorted(await bucket.keys()) == sorted(keys)
    assert all(job.failed_at is None for job in await renditions_jobs(db))
    assert await fourth.terminate() < STOP_TIMEOUT_SECONDS


async def photo_ids_of(db, post_ids: list[int]) -> list[tuple[int]]:
    async with db() as session:
        return list(await session.execute(select(Photo.id).where(Photo.post_id.in_(post_ids))))


async def renditions_jobs(db) -> list[MediaJob]:
    async with db() as session:
        return list(await session.scalars(select(MediaJob).where(MediaJob.kind == "renditions")))


async def wait_for_claims(db) -> None:
    """Until a worker has claimed a renditions job (and is storing, slowly, what it made)."""
    deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(job.claimed_by is not None for job in await renditions_jobs(db)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no renditions job was claimed")


async def wait_for_widths(db, post_ids: list[int]) -> None:
    deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        async with db() as session:
            lacking = await session.scalar(
                select(func.count()).where(Photo.post_id.in_(post_ids), Photo.renditions.is_(None))
            )
        if lacking == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{lacking} photos still without widths")


async def test_two_processes_share_the_jobs_and_do_none_twice(serve, factory, db, bucket):
    account = await factory.user()
    servers = [serve(), serve()]
    await asyncio.gather(*(served.start() for served in servers))
    post_ids = []
    async with http_session() as http:
        # Cookies do not tell ports apart: one session serves both processes.
        token = await log_in(http, servers[0].base, account.username, account.password)
        for number in range(6):
            post_ids.append(await upload(http, servers[number % 2].base, token, [number]))
    await wait_until_published(db, post_ids)
    jobs = await jobs_of(db, post_ids)
    assert [job.attempts for job in jobs] == [1] * 6  # each job claimed and run once
    assert len({job.claimed_by for job in jobs}) == 2  # by both processes
    keys = await bucket.keys()
    assert len(keys) == len(set(keys)) == 18  # display, thumb and one width per photo
    stop_times = await asyncio.gather(*(served.terminate() for served in servers))
    assert max(stop_times) < STOP_TIMEOUT_SECONDS


async def test_stopping_the_app_gives_back_a_job_in_progress(
    aiohttp_client, base_settings, moto_server, bucket, factory, login, db
):
    # Storage takes far longer to store anything than the stop's grace period.
    proxy = DelayProxy(moto_server.url, 30, methods=frozenset({"PUT"}))
    await proxy.start()
    from service.app import create_app

    client = await aiohttp_client(create_app(s3_settings(base_settings, proxy.url, bucket.name)))
    post_id = None
    try:
        await login(client, await factory.user())
        response = await api_upload(client, photo_form([("a.png", small_png(1), "image/png")]))
        post_id = (await response.json())["id"]
        [job] = await jobs_of(db, [post_id])
        deadline = time.monotonic() + 10
        while job.locked_until is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            [job] = await jobs_of(db, [post_id])
        assert job.locked_until is not None, "the job was never claimed"
        started = time.monotonic()
        await client.close()
        assert time.monotonic() - started < 15
        [job] = await jobs_of(db, [post_id])
        assert job.done_at is None and job.locked_until is None and job.attempts == 0
    finally:
        await proxy.stop()
        async with db.begin() as session:  # leave no job for the next test's workers
            if post_id is not None:
                await session.execute(delete(Post).where(Post.id == post_id))
            await session.execute(delete(MediaJob).where(MediaJob.done_at.is_(None)))
