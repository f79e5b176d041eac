"""Opaque keyset cursors: a position in a list ordered by (time, id).

Clients get a short URL-safe string and must not look inside; a cursor that does not decode
to a position is a malformed request (400), never a 500 or an empty page."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CURSOR_CHARS = 64
# Row ids are PostgreSQL bigints: a larger one cannot even be sent as a parameter.
MAX_ID = 2**63 - 1


class MalformedCursor(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Position:
    """Rows strictly after this one in the list's order come next."""

    at: datetime
    id: int


def encode(position: Position) -> str:
    delta = position.at - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = f"{micros}.{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Position:
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise MalformedCursor("cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        micros_text, id_text = raw.split(".")
        micros, row_id = int(micros_text), int(id_text)
        if not (micros_text.lstrip("-").isdigit() and id_text.isdigit()) or row_id > MAX_ID:
            raise ValueError(raw)
        return Position(_EPOCH + timedelta(microseconds=micros), row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
        raise MalformedCursor("cursor") from error
