"""Browser URLs of stored objects: ``/media/<key>`` served by the app (local storage), the
public bucket or CDN URL (``s3_public_url``), or a presigned GET URL.

Presigned URLs are signed here with SigV4 rather than through botocore: botocore takes
about a millisecond per URL, and a page of 20 posts with 4 photos needs 160 of them, on the
event loop. The signing time is rounded down to the hour, so a URL is the same for an hour
(browsers and proxies can cache the image) and valid for at least another hour when
handed out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote, urlsplit

# A stored object's key: a kind, a random prefix, and a rendition name. Nothing else is
# ever stored or served, which also rules out path traversal.
PREFIX_PATTERN = re.compile(r"^(photos|avatars|archives)/[0-9a-f]{32}$")
KEY_PATTERN = re.compile(r"^(photos|avatars)/[0-9a-f]{32}/[a-z0-9]{1,16}\.(jpg|webp)$")
CONTENT_TYPES = {"jpg": "image/jpeg", "webp": "image/webp"}
# An archive of an account (docs/operations.md): never served under /media/, only to its
# owner, and left out of backups (it lives a week and holds nothing the database lacks).
ARCHIVE_KEY_PATTERN = re.compile(r"^archives/[0-9a-f]{32}/[a-z0-9-]{1,40}\.zip$")
ARCHIVE_FILENAME = "archive.zip"

PRESIGN_EXPIRES_SECONDS = 2 * 3600
PRESIGN_REUSE_SECONDS = 3600
_UNRESERVED = "-_.~"


class MediaUrls(Protocol):
    def __call__(self, key: str) -> str: ...


def app_url(key: str) -> str:
    """Served by the app itself: files of the local backend, or a redirect for S3."""
    return f"/media/{key}"


class PublicUrls:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def __call__(self, key: str) -> str:
        return f"{self.base}/{quote(key, safe='/' + _UNRESERVED)}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class Presigner:
    """Path-style SigV4 query-string signatures for GET, as S3 and compatible servers check
    them (the same algorithm as botocore's ``S3SigV4QueryAuth``)."""

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(endpoint_url)
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        host = parts.hostname or ""
        self.host = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
        self.base = f"{parts.scheme}://{self.host}"
        self.path = f"{parts.path.rstrip('/')}/{quote(bucket, safe=_UNRESERVED)}"
        self.region = region
        self.access_key_id = access_key_id
        self.secret = secret_access_key
        self.session_token = session_token
        self.clock = clock
        self._keys: dict[str, bytes] = {}

    def _signing_key(self, day: str) -> bytes:
        key = self._keys.get(day)
        if key is None:
            key = _hmac(f"AWS4{self.secret}".encode(), day)
            for part in (self.region, "s3", "aws4_request"):
                key = _hmac(key, part)
            self._keys = {day: key}  # one day's key at a time
        return key

    def __call__(self, key: str) -> str:
        now = int(self.clock())
        return self.url_at(key, now - now % PRESIGN_REUSE_SECONDS)

    def url_at(self, key: str, signed_at: int, expires: int = PRESIGN_EXPIRES_SECONDS) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
        scope = f"{stamp[:8]}/{self.region}/s3/aws4_request"
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.access_key_id}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }
        if self.session_token:
            params["X-Amz-Security-Token"] = self.session_token
        query = "&".join(
            f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}"
            for name, value in sorted(params.items())
        )
        path = f"{self.path}/{quote(key, safe='/' + _UNRESERVED)}"
        canonical = f"GET\n{path}\n{query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(
            self._signing_key(stamp[:8]), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        return f"{self.base}{path}?{query}&X-Amz-Signature={signature}"


def rendition_key(prefix: str, name: str, extension: str) -> str:
    return f"{prefix}/{name}.{extension}"
