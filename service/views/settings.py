"""The signed-in user's own settings: profile fields, avatar, password, and the accounts they
blocked or muted."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from service import i18n
from service.domain import accounts, avatars, profiles
from service.domain import sessions as auth_sessions
from service.i18n import gettext as _
from service.i18n import lazy_gettext, ngettext
from service.keys import (
    media_worker_key,
    passwords_key,
    session_cache_key,
    sessionmaker_key,
)
from service.reads import people
from service.reads.views import SessionUser, avatar_url
from service.text import text_error, trim
from service.views.common import redirect, render
from service.web.auth import current_session_secret, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.language import NOT_OFFERED, offered
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import reading
from service.web.uploads import Spooled, UploadError, received

WRONG_PASSWORD = lazy_gettext("That is not your current password.")


AVATAR_FILES = {"avatar": 1}
PROFILE_TEXTS = frozenset(
    {
        *profiles.PROFILE_LIMITS,
        "default_audience",
        "locked",
        "indexable",
        "indexable_shown",
        "language",
    }
)


async def _profile_page(
    request: web.Request,
    user: SessionUser,
    form: dict[str, str],
    errors: dict[str, str],
    status: int,
) -> web.Response:
    async with request.app[sessionmaker_key]() as db:
        avatar_key, avatar_pending = await avatars.avatar_state(db, user.id)
    async with reading(request) as reader:
        asking = await people.follow_request_count(reader, user.id)
    context = {
        "follow_requests": asking,
        "form": form,
        "errors": errors,
        "avatar_url": avatar_url(user.username, avatar_key),
        "avatar_pending": avatar_pending,
    }
    return await render(request, "settings/profile.html", context, status)


async def profile_form(request: web.Request) -> web.Response:
    user = require_user(request)
    async with reading(request) as reader:
        own = await people.profile(reader, user.username, user.id)
    if own is None:  # the account was deleted since the session was looked up
        raise Problem(404, _("There is no user by that name."))
    form = {
        "display_name": own.summary.display_name,
        "location": own.location,
        "bio": own.bio,
        "default_audience": user.default_audience,
        "locked": "on" if own.locked else "",
        "indexable": "on" if own.indexable else "",
        # The account's choice, else the language this page is in (as the footer shows).
        "language": user.language or i18n.current(),
    }
    return await _profile_page(request, user, form, {}, 200)


def _language_choice(user: SessionUser, chosen: str | None) -> str | None:
    """The language the form chose for the account, or None to leave it as it is: the form
    did not show the field (one language offered, an older page), or it kept the language
    the page was in for an account that never chose one."""
    if chosen is None or chosen == (user.language or i18n.current()):
        return None
    return chosen


def _saved_message(photo: bool, approved: int) -> str:
    if approved:
        if photo:
            return ngettext(
                "Your profile has been saved. Your new photo appears in a moment. Your account"
                " is public: %(num)s pending follow request was approved.",
                "Your profile has been saved. Your new photo appears in a moment. Your account"
                " is public: %(num)s pending follow requests were approved.",
                approved,
            ) % {"num": approved}
        return ngettext(
            "Your profile has been saved. Your account is public: %(num)s pending follow"
            " request was approved.",
            "Your profile has been saved. Your account is public: %(num)s pending follow"
            " requests were approved.",
            approved,
        ) % {"num": approved}
    if photo:
        return _("Your profile has been saved. Your new photo appears in a moment.")
    return _("Your profile has been saved.")


async def _save_profile(
    request: web.Request, user: SessionUser, form: Mapping[str, str], avatar: Spooled | None
) -> web.Response:
    values = {name: trim(form.get(name, "")) for name in profiles.PROFILE_LIMITS}
    # A checkbox: sent when ticked, absent when not.
    locked = bool(form.get("locked"))
    # Absent from a form that did not show it (an older page): left as it was.
    indexable = bool(form.get("indexable")) if form.get("indexable_shown") else None
    errors = profiles.profile_errors(values)
    # A form without the field (an older page) leaves the default as it was. A private
    # account is offered no public default: ticking the box makes it followers only.
    audience = form.get("default_audience") or user.default_audience
    if locked and audience == "public":
        audience = "followers"
    if message := profiles.default_audience_error(audience, locked):
        errors["default_audience"] = message
    if avatar is not None and not user.is_confirmed:
        errors["avatar"] = _("Confirm your email address before you upload a photo.")
    language = _language_choice(user, form.get("language"))
    if language is not None and not offered(request, language):
        errors["language"] = str(NOT_OFFERED)
    if errors:
        return await _profile_page(
            request,
            user,
            {
                **values,
                "default_audience": audience,
                "locked": form.get("locked", ""),
                "indexable": form.get("indexable", ""),
                "language": form.get("language") or user.language or i18n.current(),
            },
            errors,
            422,
        )
    async with request.app[sessionmaker_key].begin() as db:
        await profiles.update_profile(db, user.id, **values)
        # Locked first: a private account's default may not be public, even for a moment.
        approved = await profiles.set_locked(db, user.id, locked)
        await profiles.set_default_audience(db, user.id, audience)
        if indexable is not None:
            await profiles.set_indexable(db, user.id, indexable)
        if avatar is not None:
            await avatars.request_avatar(db, user.id, avatar.path)
        if language is not None:
            await profiles.set_language(db, user.id, language)
    # Other processes hear of it from the database; this one shows the next page.
    request.app[session_cache_key].user_changed(user.id)
    if avatar is not None:
        request.app[media_worker_key].wake()
    # Told in the language the next page is in.
    with i18n.using(language or i18n.current()):
        message = _saved_message(avatar is not None, approved)
    await flash(request, message, "success")
    raise redirect(str(request.app.router["settings_profile"].url_for()))


async def profile(request: web.Request) -> web.Response:
    user = require_user(request)
    if request.content_type != "multipart/form-data":
        return await _save_profile(request, user, await read_form(request), None)
    # The form is multipart so that it can carry a photo; the photo is optional.
    try:
        async with received(request, AVATAR_FILES, PROFILE_TEXTS) as form:
            [avatar] = form.files.get("avatar") or [None]
            return await _save_profile(request, user, form.texts, avatar)
    except UploadError as error:
        values = {name: trim(error.texts.get(name, "")) for name in profiles.PROFILE_LIMITS}
        values["default_audience"] = error.texts.get("default_audience", user.default_audience)
        values["locked"] = error.texts.get("locked", "")
        values["indexable"] = error.texts.get("indexable", "")
        values["language"] = error.texts.get("language") or user.language or i18n.current()
        return await _profile_page(request, user, values, {"avatar": error.message}, error.status)


async def password_form(request: web.Request) -> web.Response:
    require_user(request)
    return await render(request, "settings/password.html", {"errors": {}})


async def password(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await read_form(request)
    current, new = form.get("current_password", ""), form.get("new_password", "")
    errors: dict[str, str] = {}
    own = {"username": user.username, "email": user.email}
    if (message := text_error(new)) or (message := accounts.password_error(new, **own)):
        errors["new_password"] = message
    passwords = request.app[passwords_key]
    async with request.app[sessionmaker_key]() as db:
        password_hash = await accounts.password_hash_of(db, user.id)
    if not await passwords.verify(password_hash, current[: accounts.MAX_PASSWORD_CHARS + 1]):
        errors["current_password"] = str(WRONG_PASSWORD)
    if errors:
        return await render(request, "settings/password.html", {"errors": errors}, 422)
    new_hash = await passwords.hash(new)
    async with request.app[sessionmaker_key].begin() as db:
        await accounts.change_password(db, user.id, new_hash)
        # Whoever else holds a session (a stolen cookie, a forgotten laptop) is logged out.
        await auth_sessions.end_other_sessions(db, user.id, await current_session_secret(request))
    await flash(
        request, _("Your password has been changed. Other sessions were logged out."), "success"
    )
    raise redirect(str(request.app.router["settings_password"].url_for()))


async def _people_list(request: web.Request, kind: str, template: str) -> web.Response:
    user = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await people.relationships(reader, user.id, kind, after, limit, user.id)
    return await render(request, template, {"page": page})


async def blocked_accounts(request: web.Request) -> web.Response:
    """Whom the user blocked, newest first, each with a way to unblock."""
    return await _people_list(request, "blocks", "settings/blocks.html")


async def muted_accounts(request: web.Request) -> web.Response:
    """Whom the user muted (while the mute lasts), newest first, each with a way to unmute."""
    return await _people_list(request, "mutes", "settings/mutes.html")
