"""Errors a handler raises on purpose, and how to tell an API client from a browser."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

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
DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    409: "That conflicts with the current state.",
    410: "That is no longer here.",
    413: "That upload is too large.",
    415: "That type of file is not supported.",
    422: "Some of the input is not valid.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is temporarily unavailable. Please try again shortly.",
}


class Problem(Exception):
    """An error a handler raises on purpose, with the words the user should read."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, "Error.")
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.headers = dict(headers or {})


def wants_json(request: web.Request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept
