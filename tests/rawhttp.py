"""HTTP/1.1 over a plain socket, for requests no well-behaved client will send: header values
that are not UTF-8, paths with raw bytes. One request per connection, answer read whole."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

ANSWER_TIMEOUT_SECONDS = 15.0
# Enough of an event stream to see its status and headers; the stream itself never ends.
EVENT_STREAM = "text/event-stream"


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request_bytes(
    method: str,
    target: bytes | str,
    headers: list[tuple[bytes | str, bytes | str]] = (),
    body: bytes = b"",
    host: str = "127.0.0.1",
) -> bytes:
    def raw(value: bytes | str) -> bytes:
        return value if isinstance(value, bytes) else value.encode("utf-8")

    lines = [raw(method) + b" " + raw(target) + b" HTTP/1.1"]
    if not any(raw(name).lower() == b"host" for name, _ in headers):
        lines.append(b"Host: " + raw(host))
    lines += [raw(name) + b": " + raw(value) for name, value in headers]
    lines += [b"Connection: close", b"Content-Length: " + str(len(body)).encode()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def send(
    port: int,
    method: str,
    target: bytes | str,
    headers: list[tuple[bytes | str, bytes | str]] = (),
    body: bytes = b"",
) -> RawResponse:
    """The answer to one request sent byte for byte as given to 127.0.0.1:``port``."""
    async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request_bytes(method, target, headers, body))
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            answer_headers: dict[str, str] = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    answer_headers[name.strip().lower()] = value.strip()
            response = RawResponse(int(status_line.split()[1]), answer_headers, b"")
            if response.content_type == EVENT_STREAM or method == "HEAD":
                return response
            if "content-length" in answer_headers:
                length = int(answer_headers["content-length"])
                response.body = await reader.readexactly(length) if length else b""
            elif answer_headers.get("transfer-encoding", "").lower() == "chunked":
                response.body = await _dechunk(reader)
            else:
                response.body = await reader.read()
            return response
        finally:
            writer.close()


async def _dechunk(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return body
        body += await reader.readexactly(size)
        await reader.readexactly(2)
