"""Headers whose bytes are not UTF-8 are treated as absent, before anything reads them.

aiohttp decodes header bytes as UTF-8 with ``surrogateescape``: a value such as ``\\xff\\xfe``
arrives as a string holding lone surrogates, which compares and prints but raises as soon as
it is encoded (a CSRF token compared as bytes, a cookie decrypted, a redirect or a page built
from it). No header this service reads is meaningful in another encoding, so such a header
is dropped as if the client had not sent it: a token that cannot be read is a missing token
(403), a cookie that cannot be read is no cookie (anonymous). In ``Cookie`` only the
unreadable cookies are dropped, so a stray one set by a neighbouring site on the same domain
does not sign the user out."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict


def _readable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _readable_cookies(value: str) -> str:
    return ";".join(crumb for crumb in value.split(";") if _readable(crumb))


@web.middleware
async def readable_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if all(_readable(name) and _readable(value) for name, value in request.headers.items()):
        return await handler(request)
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in request.headers.items():
        if not _readable(name):
            continue
        if name.lower() == "cookie":
            value = _readable_cookies(value)
        if value and _readable(value):
            headers.add(name, value)
    # Without a readable Host, request.host falls back to the listening socket's address.
    return await handler(request.clone(headers=headers))
