"""Which language a request is answered in (docs/translating.md): the account's choice,
else the browser's cookie from the footer's switcher, else its ``Accept-Language``, else
the instance's default; for an app's bearer request, the device's ``Accept-Language``
first. The choice is made once, before the handler runs, and holds for everything the
request shows, its error page included."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from service import i18n
from service.keys import bearer_key, current_user_key, settings_key
from service.workers.mail import mail_language

LANGUAGE_COOKIE = "snapline_language"
LANGUAGE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600
# The answer to a language the instance does not offer (the switcher, the profile settings).
NOT_OFFERED = i18n.lazy_gettext("Choose one of the languages offered.")


def offered(request: web.Request, language: str | None) -> bool:
    """Whether the instance offers ``language`` (``app.languages``)."""
    return language in request.app[settings_key].app.languages


language_key = web.RequestKey("language", str)


def request_language(request: web.Request) -> str:
    """The language this request is answered in, of the offered ones."""
    app = request.app[settings_key].app
    offered = app.languages
    user = request.get(current_user_key)
    chosen = user.language if user is not None and user.language in offered else None
    header = request.headers.get("Accept-Language", "")
    if request.get(bearer_key) is not None:
        # An app on a phone speaks the phone's language, which its owner chose there.
        return i18n.negotiate(header, offered) or chosen or app.default_language
    if chosen:
        return chosen
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in offered:
        return cookie
    return i18n.negotiate(header, offered) or app.default_language


def use_request_language(request: web.Request) -> str:
    language = request_language(request)
    request[language_key] = language
    i18n.use(language)
    return language


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    use_request_language(request)
    return await handler(request)


async def content_language(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: say which language the answer is in, and that it depends on
    what the browser asks for."""
    language = request.get(language_key)
    if language is not None and len(request.app[settings_key].app.languages) > 1:
        response.headers.setdefault("Content-Language", language)
        response.headers.add("Vary", "Accept-Language")


def mail_language_of(request: web.Request, account_language: str | None, *, caused_it: bool) -> str:
    """The language of a mail this request sends: the recipient's choice on their account;
    else, when the recipient is whoever made this request (``caused_it``: a sign-up's
    confirmation, a password reset), this request's language; else the instance's default."""
    wishes = (account_language, request.get(language_key)) if caused_it else (account_language,)
    return mail_language(request.app[settings_key].app, *wishes)
