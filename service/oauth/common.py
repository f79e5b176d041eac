"""What the OAuth endpoints share: their parameters (a form or a JSON object), the client's
credentials (HTTP Basic or the body, RFC 6749 §2.3.1) and their error answers (§5.2)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from aiohttp import web

from service.api.common import json_response, read_json_object
from service.domain.oauth import OAuthError
from service.i18n import gettext as _
from service.web.forms import read_form
from service.web.problems import Problem

OOB = "urn:ietf:wg:oauth:2.0:oob"
MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_CHARS = 2000
MAX_PARAM_CHARS = 2000
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# Schemes that run or read something where they open, never a place to send a code.
REFUSED_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(
    error: OAuthError, status: int = 400, headers: dict[str, str] | None = None
) -> web.Response:
    response = json_response(
        {"error": error.error, "error_description": error.description}, status=status
    )
    response.headers.update({**NO_STORE, **(headers or {})})
    return response


async def read_params(request: web.Request, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The parameters of a form or a JSON body: strings, but for the names in ``lists``,
    which may be given as JSON arrays or repeated form fields. Raises Problem (4xx)."""
    if request.content_type == "application/json":
        body = await read_json_object(request, ())
        params: dict[str, Any] = {}
        for name, value in body.items():
            if name in lists and isinstance(value, list):
                if not all(isinstance(item, str) for item in value):
                    raise Problem(422, _("%(name)s must be a list of strings.") % {"name": name})
                params[name] = value
            elif isinstance(value, str):
                params[name] = value
            elif value is not None and not isinstance(value, bool | int | float):
                raise Problem(422, _("%(name)s must be a string.") % {"name": name})
        return params
    form = await read_form(request)
    params = {}
    for name in form:
        values = form.getall(name)
        key = name.removesuffix("[]")
        params[key] = values if key in lists else values[0]
    return params


def text_param(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    return value[:MAX_PARAM_CHARS]


def client_credentials(
    request: web.Request, params: dict[str, Any]
) -> tuple[str, str, bool] | None:
    """(client_id, client_secret, whether HTTP Basic carried them), or None when neither
    way did. Basic's user and password are form-encoded first (§2.3.1)."""
    authorization = request.headers.get("Authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, separator, secret = decoded.partition(":")
        if not separator:
            return None
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " ")), True
    client_id, secret = text_param(params, "client_id"), text_param(params, "client_secret")
    if client_id is None or secret is None:
        return None
    return client_id, secret, False


def redirect_uri_error(uri: str) -> str | None:
    """Why ``uri`` cannot be an app's redirect URI, or None: it must be absolute, without a
    fragment (RFC 6749 §3.1.2); custom schemes (apps on phones) and the out-of-band URN
    are allowed."""
    if uri == OOB:
        return None
    if len(uri) > MAX_REDIRECT_URI_CHARS:
        return "is too long"
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in uri):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "must be an absolute URI"
    if not parts.scheme or not SCHEME.fullmatch(parts.scheme):
        return "must be an absolute URI"
    if parts.scheme.lower() in REFUSED_SCHEMES:
        return "must not use that scheme"
    if parts.scheme.lower() in {"http", "https"} and not parts.hostname:
        return "must name a host"
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment"
    return None


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query, which is kept (§3.1.2)."""
    added = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{added}"
