"""Creating a post from a multipart form (``body``, repeatable ``photos`` and ``alt``), as
the page (views/posts.py) and the API (api/posts.py) both accept it, through the domain's
one ``posts.create_post`` command; and a photo before its post (the Mastodon API's media:
``file`` and ``description``), with the same checks. The photos are recorded, in one
transaction, before the answer; processing them is left to the media worker."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from service.domain import posts
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.keys import media_worker_key, sessionmaker_key
from service.models import MAX_ALT_CHARS
from service.text import text_error, trim
from service.web.uploads import UploadError, received

MAX_PHOTOS = posts.MAX_PHOTOS_PER_POST
MEDIA_FILES = {"file": 1}
MEDIA_TEXTS = frozenset({"description", "focus"})
POST_FILES = {"photos": MAX_PHOTOS}
POST_TEXTS = frozenset({"body", "alt", "audience"})


@dataclasses.dataclass(frozen=True)
class Created:
    post_id: int
    has_photos: bool


def audience_of(value: str | None) -> str | None:
    """The audience a form or request asked for; None (the author's default) when it asked
    for none. Raises UploadError (422) for one that is not an audience."""
    if not value:
        return None
    if message := posts.audience_error(value):
        raise UploadError(422, message, "audience", "invalid_audience")
    return value


def alt_text(alt: str) -> str:
    """One alt text, normalised and checked; raises UploadError (422)."""
    [text] = _alt_texts([alt], 1)
    return text


def _alt_texts(alts: list[str], slots: int) -> list[str]:
    """Alt texts pair with the photo slots in order (an empty file input keeps its place)."""
    texts = [trim(alt.replace("\r\n", "\n")) for alt in alts[:slots]]
    texts += [""] * (slots - len(texts))
    for text in texts:
        if len(text) > MAX_ALT_CHARS:
            message = _("Use at most %(max)s characters of alt text.") % {
                "max": f"{MAX_ALT_CHARS:,}"
            }
            raise UploadError(422, message, "alt", "invalid_alt")
        if message := text_error(text, multiline=True):
            raise UploadError(422, _("Alt text: %(problem)s") % {"problem": message}, "alt")
    return texts


async def create_post_from_form(request: web.Request, author_id: int) -> Created:
    """Raises UploadError (with the text read so far) for anything that is refused, and
    answers 429 before reading anything when the author posts too fast."""
    await count_action(request, author_id, "posts")
    async with received(request, POST_FILES, POST_TEXTS) as form:
        audience = audience_of(form.text("audience"))
        slots = form.files.get("photos", [])
        alts = _alt_texts(form.texts.getall("alt", []), len(slots))
        photos = [
            posts.NewPhoto(slot.path, alt)
            for slot, alt in zip(slots, alts, strict=True)
            if slot is not None
        ]
        try:
            async with request.app[sessionmaker_key].begin() as db:
                post_id = await posts.create_post(
                    db, author_id, form.text("body"), photos, audience
                )
        except posts.PostRefused as refused:
            raise UploadError(422, str(refused), "body", "invalid_body") from refused
    if photos:
        request.app[media_worker_key].wake()
    return Created(post_id, bool(photos))


async def create_media_from_form(request: web.Request, owner_id: int) -> int:
    """A photo with no post yet, from ``file`` (and ``description``, its alt text): the
    id of its row. Raises UploadError for anything that is refused."""
    async with received(request, MEDIA_FILES, MEDIA_TEXTS) as form:
        [spooled] = form.files.get("file") or [None]
        if spooled is None:
            raise UploadError(422, _("Attach a file."), "file", "missing_file")
        photo = posts.NewPhoto(spooled.path, alt_text(form.text("description")))
        async with request.app[sessionmaker_key].begin() as db:
            photo_id = await posts.upload_media(db, owner_id, photo)
    request.app[media_worker_key].wake()
    return photo_id
