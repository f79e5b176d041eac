"""Receiving multipart uploads: each part is streamed into a spool file under var/ with a
running byte count, and each file is checked by its content (in the CPU executor, within the
process's pixel budget) as soon as it has arrived. A request over a limit is refused the
moment it passes it, and every spool file is removed whatever happens: nothing of a refused
upload stays behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from service.i18n import gettext as _
from service.i18n import ngettext
from service.keys import cpu_executor_key, pixel_budget_key, spool_dir_key
from service.storage.spool import SPOOL_SUFFIX
from service.web.csrf import multipart_key
from service.workers.media import images

log = logging.getLogger(__name__)

# A photo straight from a 40 MP camera at high JPEG quality stays under 20 MB; more than
# that is not a photo we would keep at full size anyway.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
# Four photos at the limit, plus room for the text fields and the multipart framing.
MAX_REQUEST_BYTES = 85 * 1024 * 1024
# A text field: the longest (a 2,000-character body) in 4-byte characters, twice over.
MAX_TEXT_FIELD_BYTES = 16 * 1024
# csrf_token, body, four photos and four alt texts, with room for a submit button or two.
MAX_PARTS = 24
# Spool writes are handed to a thread in batches of this size, not per network chunk.
WRITE_BATCH_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024


class UploadError(Exception):
    """The upload is refused: HTTP ``status``, a message for the user, the form ``field``
    it concerns, and what was read of the text fields (to show the form again)."""

    def __init__(
        self, status: int, message: str, field: str = "photos", code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code or {413: "too_large", 415: "unsupported_media_type"}.get(
            status, "invalid_upload"
        )
        self.texts: MultiDict[str] = MultiDict()


@dataclasses.dataclass(frozen=True)
class Spooled:
    path: Path
    size: int
    image: images.Checked


@dataclasses.dataclass
class Received:
    """Text fields, and per file field its slots in order: a checked file, or None for a
    file input left empty."""

    texts: MultiDict[str] = dataclasses.field(default_factory=MultiDict)
    files: dict[str, list[Spooled | None]] = dataclasses.field(default_factory=dict)

    def text(self, name: str) -> str:
        return self.texts.get(name, "")

    def spooled(self) -> list[Spooled]:
        return [item for slots in self.files.values() for item in slots if item is not None]


def _too_large() -> str:
    return _("The upload is larger than %(size)s MB.") % {
        "size": MAX_REQUEST_BYTES // (1024 * 1024)
    }


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class _Counter:
    """Bytes of the whole request so far; 413 the moment they pass the limit."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        if self.total > MAX_REQUEST_BYTES:
            raise UploadError(413, _too_large())


class _Receiver:
    def __init__(
        self,
        request: web.Request,
        file_fields: Mapping[str, int],
        text_fields: frozenset[str],
    ) -> None:
        self.request = request
        self.file_fields = file_fields
        self.text_fields = text_fields
        self.spool = request.app[spool_dir_key]
        self.counter = _Counter()
        self.received = Received()
        self.paths: list[Path] = []

    async def _text(self, part: BodyPartReader) -> None:
        data = bytearray()
        while chunk := await part.read_chunk(READ_CHUNK_BYTES):
            self.counter.add(len(chunk))
            data += chunk
            if len(data) > MAX_TEXT_FIELD_BYTES:
                message = _("The %(name)s field is too long.") % {"name": part.name}
                raise UploadError(413, message, part.name or "")
        try:
            self.received.texts.add(part.name or "", data.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise UploadError(
                400, _("The form is not valid UTF-8."), part.name or "", "invalid_encoding"
            ) from error

    async def _skip(self, part: BodyPartReader) -> None:
        while chunk := await part.read_chunk(READ_CHUNK_BYTES):
            self.counter.add(len(chunk))

    def _too_many(self, name: str) -> UploadError:
        limit = self.file_fields[name]
        message = ngettext(
            "Attach at most %(num)s photo.", "Attach at most %(num)s photos.", limit
        ) % {"num": limit}
        return UploadError(422, message, name, "too_many_photos")

    async def _spool(self, part: BodyPartReader, name: str, filled: int) -> tuple[Path, int]:
        """Stream the part into a new spool file; its path and size."""
        path = self.spool / f"{secrets.token_hex(16)}{SPOOL_SUFFIX}"
        self.paths.append(path)
        handle = await asyncio.to_thread(path.open, "xb")
        size = 0
        batch = bytearray()
        try:
            while chunk := await part.read_chunk(READ_CHUNK_BYTES):
                if size == 0 and filled >= self.file_fields[name]:
                    raise self._too_many(name)
                size += len(chunk)
                self.counter.add(len(chunk))
                if size > MAX_PHOTO_BYTES:
                    message = _("Each photo must be at most %(size)s MB.") % {
                        "size": MAX_PHOTO_BYTES // (1024 * 1024)
                    }
                    raise UploadError(413, message)
                batch += chunk
                if len(batch) >= WRITE_BATCH_BYTES:
                    await asyncio.to_thread(handle.write, bytes(batch))
                    batch.clear()
            if batch:
                await asyncio.to_thread(handle.write, bytes(batch))
        finally:
            await asyncio.to_thread(handle.close)
        return path, size

    async def _file(self, part: BodyPartReader) -> None:
        name = part.name or ""
        slots = self.received.files.setdefault(name, [])
        filled = sum(1 for slot in slots if slot is not None)
        path, size = await self._spool(part, name, filled)
        if size == 0:
            if part.filename:  # a chosen file with nothing in it
                message = _("%(file)s is empty.") % {"file": _shown(part.filename)}
                raise UploadError(422, message, name, "empty_file")
            slots.append(None)  # a file input left empty
            return
        declared = images.declared_format(part.filename or "", part.headers.get("Content-Type", ""))
        loop = asyncio.get_running_loop()
        executor = self.request.app[cpu_executor_key]
        try:
            checked = await loop.run_in_executor(executor, images.measure, path, declared)
            budget = self.request.app[pixel_budget_key]
            await budget.run(checked.verify_pixels, executor, images.verify, path)
        except images.Rejected as error:
            raise UploadError(error.status, error.message, name) from error
        slots.append(Spooled(path, size, checked))

    async def receive(self) -> Received:
        length = self.request.content_length
        if length is not None and length > MAX_REQUEST_BYTES:
            raise UploadError(413, _too_large())
        reader = self.request.get(multipart_key)
        if not isinstance(reader, MultipartReader):
            reader = await self.request.multipart()
        for _part_number in range(MAX_PARTS):
            part = await reader.next()
            if part is None:
                return self.received
            if not isinstance(part, BodyPartReader):
                raise UploadError(400, _("Nested multipart bodies are not accepted."), "")
            if part.name in self.file_fields:
                await self._file(part)
            elif part.name in self.text_fields:
                await self._text(part)
            else:
                await self._skip(part)
        raise UploadError(413, _("The form has too many fields."), "")


def _shown(filename: str) -> str:
    """A client's file name, fit to quote back: never a path, never long."""
    base = os.path.basename(filename.replace("\\", "/")) or _("The file")
    return base if len(base) <= 60 else base[:57] + "..."


# What a client that sends a malformed body or goes away mid-upload makes aiohttp raise.
BROKEN_BODY_ERRORS = (ValueError, ConnectionError, asyncio.IncompleteReadError, HttpProcessingError)


@contextlib.asynccontextmanager
async def received(
    request: web.Request, file_fields: Mapping[str, int], text_fields: frozenset[str]
) -> AsyncIterator[Received]:
    """Receive the multipart body, and remove every spool file when the block ends (the
    caller has copied what it keeps into the database by then)."""
    receiver = _Receiver(request, file_fields, text_fields)
    try:
        try:
            result = await receiver.receive()
        except UploadError as error:
            error.texts = receiver.received.texts
            raise
        except BROKEN_BODY_ERRORS as error:
            log.info("malformed or interrupted upload: %s", error)
            broken = UploadError(
                400, _("The upload was malformed or interrupted."), "", "bad_upload"
            )
            broken.texts = receiver.received.texts
            raise broken from error
        try:
            yield result
        except UploadError as error:  # refused by the caller, e.g. for its text
            error.texts = error.texts or result.texts
            raise
    finally:
        await asyncio.to_thread(_unlink, receiver.paths)
