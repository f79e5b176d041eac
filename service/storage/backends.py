"""Object storage behind one small interface: ``local`` (files under storage.local_path,
served by the app) or ``s3`` (any S3-compatible server, through one aioboto3 client per
process). Only background jobs call ``put`` and ``delete_prefix``: a request never waits
for storage."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from service.settings import Settings, StorageSettings
from service.storage.urls import (
    ARCHIVE_KEY_PATTERN,
    CONTENT_TYPES,
    KEY_PATTERN,
    PREFIX_PATTERN,
    SIGNED_URL_LIFETIME_SECONDS,
    MediaLinks,
    Presigner,
    PublicMediaUrls,
    PublicUrls,
    UrlSigner,
    app_url,
    is_restricted,
)

log = logging.getLogger(__name__)

# Objects are immutable (a new upload gets a new random prefix), so caches may keep them.
CACHE_CONTROL = "public, max-age=31536000, immutable"
# A storage server that does not answer within these is treated as down; the job retries.
S3_CONNECT_TIMEOUT_SECONDS = 5
S3_READ_TIMEOUT_SECONDS = 30
S3_MAX_ATTEMPTS = 3
# How long the start-up bucket check may take before the service starts without it.
PROBE_TIMEOUT_SECONDS = 10
# Large objects (archives) are read and written in pieces this size, never whole.
CHUNK_BYTES = 1024 * 1024
# An archive is personal: no shared cache may keep it.
PRIVATE_CACHE_CONTROL = "private, no-store"
# A restricted photo: only its viewer's browser keeps it, no longer than a signed URL lives.
RESTRICTED_CACHE_CONTROL = f"private, max-age={SIGNED_URL_LIFETIME_SECONDS}"


def cache_control_of(key: str) -> str:
    return RESTRICTED_CACHE_CONTROL if is_restricted(key) else CACHE_CONTROL


class StorageError(Exception):
    """Storage could not be reached or refused the operation; worth retrying later."""


class Storage(Protocol):
    urls: MediaLinks

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    # A stored rendition under another key (a photo moving between the public and the
    # restricted kind); the source stays until its prefix is deleted.
    async def copy(self, source: str, target: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    # Large objects: stored from a file on disk, read back a chunk at a time.
    async def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    def chunks(self, key: str) -> AsyncIterator[bytes]: ...

    async def probe(self) -> None: ...

    # For the operator's commands (sweep, backup, restore), not for requests or jobs.
    async def list_objects(self) -> list[StoredObject]: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


@dataclasses.dataclass(frozen=True)
class StoredObject:
    """Any object found in storage; ``key`` need not be a media key (a bucket may hold
    other things, a crash may leave a temporary file)."""

    key: str
    size: int
    modified: datetime


def _checked_key(key: str) -> str:
    if not (KEY_PATTERN.match(key) or ARCHIVE_KEY_PATTERN.match(key)):
        raise ValueError(f"not a media key: {key!r}")
    return key


def _checked_prefix(prefix: str) -> str:
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(f"not a media prefix: {prefix!r}")
    return prefix


class LocalStorage:
    def __init__(self, root: Path, urls: MediaLinks) -> None:
        self.root = root
        self.urls = urls

    def path_of(self, key: str) -> Path:
        return self.root / _checked_key(key)

    def _write(self, key: str, data: bytes) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file and a crash leaves none.
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await asyncio.to_thread(self._write, key, data)
        except OSError as error:
            raise StorageError(f"writing {key}: {error}") from error

    def _link(self, source: str, target: str) -> None:
        # A hard link: no bytes copied, and the file appears whole under its new name.
        origin, destination = self.path_of(source), self.path_of(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.parent / f".{destination.name}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        try:
            os.link(origin, temporary)
            os.replace(temporary, destination)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    async def copy(self, source: str, target: str) -> None:
        try:
            await asyncio.to_thread(self._link, source, target)
        except OSError as error:
            raise StorageError(f"copying {source} to {target}: {error}") from error

    def _copy_in(self, key: str, source: Path) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle, source.open("rb") as original:
                shutil.copyfileobj(original, handle, CHUNK_BYTES)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        try:
            await asyncio.to_thread(self._copy_in, key, path)
        except OSError as error:
            raise StorageError(f"writing {key}: {error}") from error

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self.path_of(key).open, "rb")
        except OSError as error:
            raise StorageError(f"reading {key}: {error}") from error
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        except OSError as error:
            raise StorageError(f"reading {key}: {error}") from error
        finally:
            await asyncio.to_thread(handle.close)

    async def delete_prefix(self, prefix: str) -> None:
        directory = self.root / _checked_prefix(prefix)
        try:
            await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=False)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise StorageError(f"deleting {prefix}: {error}") from error

    async def probe(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    def _list(self) -> list[StoredObject]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file():
                info = path.stat()
                modified = datetime.fromtimestamp(info.st_mtime, UTC)
                found.append(
                    StoredObject(path.relative_to(self.root).as_posix(), info.st_size, modified)
                )
        return sorted(found, key=lambda item: item.key)

    async def list_objects(self) -> list[StoredObject]:
        try:
            return await asyncio.to_thread(self._list)
        except OSError as error:
            raise StorageError(f"listing {self.root}: {error}") from error

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path_of(key).read_bytes)
        except OSError as error:
            raise StorageError(f"reading {key}: {error}") from error

    def _delete(self, key: str) -> None:
        target = self.path_of(key)
        target.unlink(missing_ok=True)
        # An emptied prefix directory goes too; one still in use stays.
        with contextlib.suppress(OSError):
            target.parent.rmdir()

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._delete, key)
        except OSError as error:
            raise StorageError(f"deleting {key}: {error}") from error


# What a failed S3 call raises: botocore's errors, and the HTTP client's underneath.
S3_ERRORS = (ClientError, BotoCoreError, aiohttp.ClientError, OSError, TimeoutError)


class S3Storage:
    def __init__(
        self, client: Any, bucket: str, urls: MediaLinks, presigner: Presigner | None = None
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.urls = urls
        # For restricted photos, whatever names the public ones: a short presigned GET.
        self.presigner = presigner

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            await self.client.put_object(
                Bucket=self.bucket,
                Key=_checked_key(key),
                Body=data,
                ContentType=content_type,
                CacheControl=cache_control_of(key),
            )
        except S3_ERRORS as error:
            raise StorageError(f"storing {key}: {error}") from error

    async def copy(self, source: str, target: str) -> None:
        # The metadata is replaced, not copied: the target's kind decides who may cache it.
        try:
            await self.client.copy_object(
                Bucket=self.bucket,
                Key=_checked_key(target),
                CopySource={"Bucket": self.bucket, "Key": _checked_key(source)},
                MetadataDirective="REPLACE",
                ContentType=CONTENT_TYPES[target.rsplit(".", 1)[1]],
                CacheControl=cache_control_of(target),
            )
        except S3_ERRORS as error:
            raise StorageError(f"copying {source} to {target}: {error}") from error

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        # A managed transfer: read from disk in parts (multipart past 8 MB), never whole.
        try:
            await self.client.upload_file(
                str(path),
                self.bucket,
                _checked_key(key),
                ExtraArgs={"ContentType": content_type, "CacheControl": PRIVATE_CACHE_CONTROL},
            )
        except S3_ERRORS as error:
            raise StorageError(f"storing {key}: {error}") from error

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        try:
            answer = await self.client.get_object(Bucket=self.bucket, Key=_checked_key(key))
            body = answer["Body"]  # entered, it is the bare HTTP response, without chunks
            async with body:
                async for chunk in body.iter_chunks(CHUNK_BYTES):
                    yield chunk
        except S3_ERRORS as error:
            raise StorageError(f"reading {key}: {error}") from error

    async def delete_prefix(self, prefix: str) -> None:
        # One DeleteObject per key rather than DeleteObjects: the batch call needs a
        # Content-MD5 or checksum header that not every S3-compatible server accepts, and
        # a prefix holds only two or so objects.
        try:
            listed = await self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=_checked_prefix(prefix) + "/"
            )
            for item in listed.get("Contents", []):
                await self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        except S3_ERRORS as error:
            raise StorageError(f"deleting {prefix}: {error}") from error

    async def probe(self) -> None:
        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except S3_ERRORS as error:
            raise StorageError(f"bucket {self.bucket}: {error}") from error

    async def list_objects(self) -> list[StoredObject]:
        found = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            async for page in pages:
                found.extend(
                    StoredObject(item["Key"], item["Size"], item["LastModified"])
                    for item in page.get("Contents", [])
                )
        except S3_ERRORS as error:
            raise StorageError(f"listing bucket {self.bucket}: {error}") from error
        return sorted(found, key=lambda item: item.key)

    async def get(self, key: str) -> bytes:
        try:
            answer = await self.client.get_object(Bucket=self.bucket, Key=_checked_key(key))
            async with answer["Body"] as body:
                return await body.read()
        except S3_ERRORS as error:
            raise StorageError(f"reading {key}: {error}") from error

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete_object(Bucket=self.bucket, Key=_checked_key(key))
        except S3_ERRORS as error:
            raise StorageError(f"deleting {key}: {error}") from error


def s3_config() -> AioConfig:
    return AioConfig(
        signature_version="s3v4",
        # Path-style addressing works with every S3-compatible server and with bucket
        # names that are not DNS labels; virtual hosts need wildcard DNS.
        s3={"addressing_style": "path"},
        # botocore's newer default checksums (CRC32 trailers) break many non-AWS servers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
    )


def s3_endpoint(storage: StorageSettings) -> str:
    return storage.s3_endpoint_url or f"https://s3.{storage.s3_region}.amazonaws.com"


async def _s3_presigner(session: aioboto3.Session, storage: StorageSettings) -> Presigner:
    credentials = await session.get_credentials()
    if credentials is None:
        raise StorageError("no S3 credentials: set storage.s3_access_key_id and secret")
    frozen = await credentials.get_frozen_credentials()
    return Presigner(
        s3_endpoint(storage),
        storage.s3_bucket,
        storage.s3_region,
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
    )


@contextlib.asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """The configured backend, with its client open for as long as the context lasts."""
    storage = settings.storage
    signer = UrlSigner(settings.app.secret_key)
    if storage.backend == "local":
        yield LocalStorage(settings.resolve_path(storage.local_path), MediaLinks(app_url, signer))
        return
    session = aioboto3.Session(
        aws_access_key_id=storage.s3_access_key_id or None,
        aws_secret_access_key=storage.s3_secret_access_key or None,
        region_name=storage.s3_region,
    )
    # Restricted photos are always presigned, public ones too without a public URL.
    presigner = await _s3_presigner(session, storage)
    public: PublicMediaUrls = (
        PublicUrls(storage.s3_public_url) if storage.s3_public_url else presigner
    )
    async with session.client(
        "s3", endpoint_url=s3_endpoint(storage), config=s3_config()
    ) as client:
        yield S3Storage(client, storage.s3_bucket, MediaLinks(public, signer), presigner)


async def probe(storage: Storage, settings: Settings) -> None:
    """Check the bucket (or directory) at start. A missing bucket or wrong credentials stop
    the start, since nothing would ever be stored; an unreachable server does not, since
    uploads wait in PostgreSQL until it is back."""
    try:
        await asyncio.wait_for(storage.probe(), PROBE_TIMEOUT_SECONDS)
    except (StorageError, TimeoutError) as error:
        cause = error.__cause__
        if isinstance(cause, ClientError):
            raise
        log.warning("storage is not reachable yet (%s); uploads will wait for it", error)
        return
    where = settings.storage.s3_endpoint_url or "AWS"
    if settings.storage.backend == "s3":
        log.info("storage: s3 bucket %s at %s", settings.storage.s3_bucket, where)
    else:
        log.info("storage: local files under %s", settings.storage.local_path)
