"""Browser URLs of stored objects: ``/media/<key>`` served by the app (local storage), the
public bucket or CDN URL (``s3_public_url``), or a presigned GET URL; and for restricted
photos (docs/media.md, "Restricted photos") only ever ``/media/<key>`` with an expiring
signature the app checks before it streams or redirects.

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
# ``restricted`` holds the photos of posts not everyone may see: no public URL reaches it.
PREFIX_PATTERN = re.compile(r"^(photos|restricted|avatars|archives)/[0-9a-f]{32}$")
KEY_PATTERN = re.compile(r"^(photos|restricted|avatars)/[0-9a-f]{32}/[a-z0-9]{1,16}\.(jpg|webp)$")
PUBLIC_PHOTO_KIND = "photos"
RESTRICTED_KIND = "restricted"
CONTENT_TYPES = {"jpg": "image/jpeg", "webp": "image/webp"}
# An archive of an account (docs/operations.md): never served under /media/, only to its
# owner, and left out of backups (it lives a week and holds nothing the database lacks).
ARCHIVE_KEY_PATTERN = re.compile(r"^archives/[0-9a-f]{32}/[a-z0-9-]{1,40}\.zip$")
ARCHIVE_FILENAME = "archive.zip"

PRESIGN_EXPIRES_SECONDS = 2 * 3600
PRESIGN_REUSE_SECONDS = 3600
_UNRESERVED = "-_.~"


# A restricted photo's signed URL lives this long at most...
SIGNED_URL_LIFETIME_SECONDS = 5 * 60
# ...and is the same for this long (signing time rounded down), so a page reloaded within
# a minute names the same URL and the browser's private cache can answer.
SIGNED_URL_REUSE_SECONDS = 60


class PublicMediaUrls(Protocol):
    """How a backend names a public object for browsers."""

    def __call__(self, key: str) -> str: ...


class MediaUrls(Protocol):
    """How readers name a stored object for browsers: ``restricted`` for a photo of a post
    not everyone may see (so also while its objects still wait to move)."""

    def __call__(self, key: str, restricted: bool = False) -> str: ...


def is_restricted(key_or_prefix: str) -> bool:
    """Whether the key (or prefix) is of the restricted kind, which is only ever served
    with a signature."""
    return key_or_prefix.startswith(RESTRICTED_KIND + "/")


class UrlSigner:
    """Signed ``/media/<key>?exp=&sig=`` URLs: an HMAC-SHA256 over the key and the expiry
    time with the app's secret key. ``clock`` is settable so tests can move time."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = hashlib.sha256(b"snapline media url\0" + secret.encode()).digest()
        self.clock = clock

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def __call__(self, key: str) -> str:
        now = int(self.clock())
        expires = now - now % SIGNED_URL_REUSE_SECONDS + SIGNED_URL_LIFETIME_SECONDS
        return f"{app_url(key)}?exp={expires}&sig={self._signature(key, expires)}"

    def remaining(self, key: str, expires: str | None, signature: str | None) -> int | None:
        """Seconds the signed URL stays valid, or None when it is not one of ours, has
        expired, or claims more than a URL is ever given."""
        if not (expires and signature and expires.isascii() and expires.isdigit()):
            return None
        left = int(expires[:12]) - int(self.clock())
        if len(expires) > 12 or not 0 < left <= SIGNED_URL_LIFETIME_SECONDS:
            return None
        # As bytes: compare_digest refuses str with anything but ASCII in it.
        expected = self._signature(key, int(expires)).encode()
        if not hmac.compare_digest(expected, signature.encode()):
            return None
        return left


class MediaLinks:
    """The one function every reader names photos with: a public photo by its backend's
    public URL, exactly as before; a restricted one (flagged, or already under the
    restricted kind) only by a signed ``/media/`` URL, never by a public address."""

    def __init__(self, public: PublicMediaUrls, signer: UrlSigner) -> None:
        self.public = public
        self.signer = signer

    def __call__(self, key: str, restricted: bool = False) -> str:
        if restricted or is_restricted(key):
            return self.signer(key)
        return self.public(key)


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
