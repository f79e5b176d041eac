"""Errors a handler raises on purpose, and how to tell an API client from a browser."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from babel.support import LazyProxy

from service.i18n import lazy_gettext

DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
FALLBACK_MESSAGE = lazy_gettext("Error.")
DEFAULT_MESSAGES = {
    400: lazy_gettext("The request could not be understood."),
    401: lazy_gettext("Please log in first."),
    403: lazy_gettext("You are not allowed to do that."),
    404: lazy_gettext("There is nothing here."),
    405: lazy_gettext("That method is not allowed here."),
    409: lazy_gettext("That conflicts with the current state."),
    410: lazy_gettext("That is no longer here."),
    413: lazy_gettext("That upload is too large."),
    415: lazy_gettext("That type of file is not supported."),
    422: lazy_gettext("Some of the input is not valid."),
    429: lazy_gettext("Too many attempts. Please wait a moment and try again."),
    500: lazy_gettext("Something went wrong on our side. It has been logged."),
    503: lazy_gettext("The service is temporarily unavailable. Please try again shortly."),
}


class Problem(Exception):
    """An error a handler raises on purpose, with the words the user should read."""

    def __init__(
        self,
        status: int,
        message: str | LazyProxy | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        # A default message stays lazy until read: it may be raised before the request's
        # language is chosen, and is worded in that language when the error is answered.
        self._message = message or DEFAULT_MESSAGES.get(status) or FALLBACK_MESSAGE
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.headers = dict(headers or {})

    @property
    def message(self) -> str:
        return str(self._message)


def wants_json(request: web.Request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept
