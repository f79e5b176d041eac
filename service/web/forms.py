"""Reading url-encoded forms strictly: invalid UTF-8 is a 400, not silently replaced text."""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from service.i18n import gettext as _
from service.web.problems import Problem

form_key = web.RequestKey("form", MultiDictProxy)


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    """The url-encoded body as a MultiDict, parsed once per request (CSRF needs it too)."""
    cached = request.get(form_key)
    if cached is not None:
        return cached
    fields: MultiDict[str] = MultiDict()
    if request.content_type == "application/x-www-form-urlencoded":
        body = await request.read()
        try:
            pairs = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict"
            )
        except UnicodeDecodeError as exc:
            raise Problem(400, _("The form is not valid UTF-8."), "invalid_encoding") from exc
        fields.extend(pairs)
    elif request.content_type not in {"", "multipart/form-data"} and request.can_read_body:
        raise Problem(415, _("Send the form as application/x-www-form-urlencoded."))
    proxy = MultiDictProxy(fields)
    request[form_key] = proxy
    return proxy
