"""Security headers on every response, errors and static files included."""

from __future__ import annotations

from aiohttp import hdrs, web, web_response


# No inline script or style anywhere: every script and stylesheet is a file of ours.
# img-src allows https: and data: because photo URLs may point at an S3 host or a CDN.
def content_security_policy(form_action: str = "'self'") -> str:
    """The policy; ``form_action`` widens where forms may go (and be redirected to) for the
    one page that sends people on to another site, the OAuth consent page."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' https: http: data:; connect-src 'self'; font-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action {form_action}; "
        "frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"
# aiohttp would send "Python/3.x aiohttp/3.x": versions to look vulnerabilities up by.
SERVER_NAME = "Snapline"


def hide_server_software() -> None:
    """Name no versions in the answers aiohttp writes by itself, to requests it cannot parse
    (a bad request line, a header too long). Those never reach the application, so neither
    a middleware nor a signal sees them, and aiohttp has no setting for the header: its
    default is the one module value replaced here, for the whole process."""
    if not isinstance(getattr(web_response, "SERVER_SOFTWARE", None), str):
        # Fail at start rather than quietly send versions again after an aiohttp upgrade.
        raise RuntimeError("aiohttp no longer reads web_response.SERVER_SOFTWARE")
    web_response.SERVER_SOFTWARE = SERVER_NAME


def security_headers(https: bool):
    async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers[hdrs.SERVER] = SERVER_NAME
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages differ per user; a shared cache or the back button after logout must not
        # show one user's page to another.
        if response.content_type == "text/html" or request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")

    return on_response_prepare
