"""Leaving with one's data: /settings/export (ask for an archive of the account, see the
latest ones, download one while it lasts) and /settings/delete (delete the account after
a grace period, with the password)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from service.domain import accounts, deletion, exports
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import (
    account_worker_key,
    mail_templates_key,
    mail_worker_key,
    passwords_key,
    sessionmaker_key,
    settings_key,
    storage_key,
    token_cache_key,
)
from service.storage.backends import StorageError
from service.views.common import absolute_url, log_out, redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.language import mail_language_of
from service.web.params import path_id
from service.web.problems import Problem
from service.web.urls import url_for
from service.workers.mail import compose, enqueue

NO_ARCHIVE = lazy_gettext("There is no such archive.")
EXPORT_PENDING = lazy_gettext(
    "Your archive is still being made: we will email you when it is ready. "
    "You can ask for another one after that."
)
WRONG_PASSWORD = lazy_gettext("That is not your password. Nothing was changed.")
# An archive is personal: no cache on the way may keep a copy.
DOWNLOAD_CACHE_CONTROL = "private, no-store"


async def export_page(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[sessionmaker_key]() as db:
        recent = await exports.recent_exports(db, user.id)
    now = datetime.now(UTC)
    items = [(export, exports.is_available(export, now)) for export in recent]
    pending = any(export.ready_at is None and export.failed_at is None for export in recent)
    days = request.app[settings_key].accounts.export_lifetime_seconds / 86400
    return await render(
        request,
        "settings/export.html",
        {"exports": items, "pending": pending, "lifetime_days": days},
    )


async def request_export(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        export_id = await exports.request_export(db, user.id)
    if export_id is None:
        await flash(request, str(EXPORT_PENDING), "warning")
    else:
        request.app[account_worker_key].wake()
        await flash(
            request,
            _("We are making your archive. We will email you a link when it is ready."),
            "success",
        )
    raise redirect(url_for(request, "settings_export"))


def _download_name(username: str, made: datetime) -> str:
    return f"snapline-{username.lower()}-{made:%Y-%m-%d}.zip"


async def download(request: web.Request) -> web.StreamResponse:
    """The archive, to its owner only (anyone else: 404), streamed from storage."""
    user = require_user(request)
    export_id = path_id(request, str(NO_ARCHIVE))
    async with request.app[sessionmaker_key]() as db:
        export = await exports.owned_export(db, export_id, user.id)
    if export is None:
        raise Problem(404, NO_ARCHIVE)
    if export.ready_at is None and export.failed_at is None:
        raise Problem(409, EXPORT_PENDING, "export_pending")
    if not exports.is_available(export, datetime.now(UTC)):
        raise Problem(410, _("This archive has expired. Ask for a new one in your settings."))
    chunks = request.app[storage_key].chunks(exports.archive_key(export.key_prefix))
    try:
        first = await anext(chunks, b"")
    except StorageError as error:
        raise Problem(503, headers={"Retry-After": "30"}) from error
    response = web.StreamResponse(
        headers={
            "Content-Type": exports.CONTENT_TYPE,
            "Content-Disposition": (
                f'attachment; filename="{_download_name(user.username, export.ready_at)}"'
            ),
            "Cache-Control": DOWNLOAD_CACHE_CONTROL,
        }
    )
    if export.size_bytes is not None:
        response.content_length = export.size_bytes
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


def _grace(request: web.Request) -> timedelta:
    return timedelta(seconds=request.app[settings_key].accounts.deletion_grace_seconds)


async def _delete_page(request: web.Request, errors: dict[str, str], status: int = 200):
    days = _grace(request).total_seconds() / 86400
    return await render(
        request, "settings/delete.html", {"errors": errors, "grace_days": days}, status
    )


async def delete_form(request: web.Request) -> web.Response:
    require_user(request)
    return await _delete_page(request, {})


async def delete_account(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await read_form(request)
    password = form.get("password", "")[: accounts.MAX_PASSWORD_CHARS + 1]
    async with request.app[sessionmaker_key]() as db:
        password_hash = await accounts.password_hash_of(db, user.id)
    # Verified on the CPU executor, never on the event loop, as a login is.
    if not password or not await request.app[passwords_key].verify(password_hash, password):
        return await _delete_page(request, {"password": str(WRONG_PASSWORD)}, 422)
    async with request.app[sessionmaker_key].begin() as db:
        due, revoked = await deletion.request_deletion(db, user.id, _grace(request))
        message = compose(
            request.app[mail_templates_key],
            "deletion_scheduled",
            language=mail_language_of(request, user.language, caused_it=True),
            user=user,
            due_at=due,
            login_link=absolute_url(request, "login"),
        )
        enqueue(db, user.email, message)
    request.app[mail_worker_key].wake()
    # This process forgets them at once; the others hear it from the database.
    for token_hash in revoked:
        request.app[token_cache_key].revoked(token_hash)
    await log_out(request)
    await flash(
        request,
        _(
            "Your account will be deleted on %(date)s. Until then it is hidden from everyone;"
            " log in before then to keep it."
        )
        % {"date": f"{due:%Y-%m-%d}"},
        "info",
    )
    raise redirect(url_for(request, "home"))
