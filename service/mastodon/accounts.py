"""/api/v1/accounts: the signed-in user and changes to their profile, an account, its
statuses, followers and following, relationships, following and unfollowing, look-up by
name and search; block, mute and remove from followers, and the lists of blocks and mutes
(/api/v1/blocks, /api/v1/mutes)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from service import cursor
from service.api.common import duration_param
from service.cursor import MAX_ID, Position
from service.domain import avatars, follows, profiles
from service.handlers.actions import answer_request, change_block, change_mute, remove_follower
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.keys import media_worker_key, sessionmaker_key, settings_key
from service.mastodon import entities
from service.mastodon.common import (
    PAGING_PARAMETERS,
    id_from_path,
    json_response,
    limit_of,
    link_header,
    links,
    listed_statuses,
    not_found,
    page_response,
    read_params,
    text_of,
    window,
)
from service.reads import people
from service.reads import statuses as status_reads
from service.reads.paging import NEWEST_FIRST, OLDEST_FIRST
from service.reads.statements import Reader
from service.reads.views import Profile
from service.text import trim
from service.web.auth import current_user, require_confirmed, require_user
from service.web.params import query_number, whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.times import iso_millis
from service.web.uploads import Spooled, UploadError, received

# Mastodon answers relationships for at most this many accounts at once.
MAX_RELATIONSHIPS = 40
# What update_credentials changes, Mastodon's names for Snapline's profile fields.
CREDENTIAL_FIELDS = {"display_name": "display_name", "note": "bio"}
# The default visibility of new posts (the user's default audience), as Mastodon takes it.
PRIVACY = "source[privacy]"
AVATAR_FILES = {"avatar": 1}
CREDENTIAL_TEXTS = frozenset({*CREDENTIAL_FIELDS, "locked", "indexable", PRIVACY})


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def _profile(reader: Reader, user_id: int, viewer_id: int | None) -> Profile:
    found = await people.profiles_by_id(reader, [user_id], viewer_id)
    if not found:
        raise not_found()
    return found[0]


async def _own_account(request: web.Request, viewer_id: int, default_audience: str) -> web.Response:
    async with reading(request) as reader:
        profile = await _profile(reader, viewer_id, viewer_id)
        asking = await people.follow_request_count(reader, viewer_id)
    return json_response(
        entities.credential_account(profile, links(request), default_audience, asking)
    )


async def verify_credentials(request: web.Request) -> web.Response:
    viewer = require_user(request)
    return await _own_account(request, viewer.id, viewer.default_audience)


async def account(request: web.Request) -> web.Response:
    async with reading(request) as reader:
        profile = await _profile(reader, id_from_path(request), _viewer_id(request))
    return json_response(entities.account(profile, links(request)))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"true", "1", "on"}


async def account_statuses(request: web.Request) -> web.Response:
    """An account's posts, newest first; ``only_media`` keeps those with photos. Nothing is
    pinned here, and an account's list holds no replies (comments are not in it)."""
    user_id, viewer_id, paging = id_from_path(request), _viewer_id(request), window(request)
    async with reading(request) as reader:
        await _profile(reader, user_id, viewer_id)
        if _flag(request, "pinned"):
            return page_response(request, [])
        listed = await status_reads.by_account(
            reader, media_urls(request), viewer_id, user_id, _flag(request, "only_media"),
            paging.above, paging.below, paging.oldest_first, paging.limit,
        )  # fmt: skip
    return page_response(request, listed_statuses(request, listed))


def follow_positions(request: web.Request) -> tuple[Position, Position, bool]:
    """The paging parameters of a list of follows: the ids in its Link headers are the
    follows' own keyset positions (opaque to apps, as Mastodon's follow ids are)."""
    positions: dict[str, Position] = {}
    for name in PAGING_PARAMETERS:
        raw = request.query.get(name)
        if raw:
            try:
                positions[name] = cursor.decode(raw)
            except cursor.MalformedCursor as error:
                message = _("%(name)s is not valid") % {"name": name}
                raise Problem(422, message, f"invalid_{name}") from error
    after = max(
        (positions[name] for name in ("since_id", "min_id") if name in positions),
        key=lambda position: (position.at, position.id),
        default=OLDEST_FIRST,
    )
    return positions.get("max_id", NEWEST_FIRST), after, "min_id" in positions


async def _people(
    request: web.Request, user_id: int, direction: str, viewer_id: int | None
) -> web.Response:
    """A page of a list of people (follows, blocks, mutes) as Accounts, with Mastodon's
    paging and Link headers; a mute's Account tells when it ends (``mute_expires_at``)."""
    before, after, oldest_first = follow_positions(request)
    async with reading(request) as reader:
        found = await people.relationships_between(
            reader, user_id, direction, before, after, oldest_first, limit_of(request), viewer_id
        )
        profiles = await people.profiles_by_id(reader, [r.user.id for r in found], viewer_id)
    by_id = {profile.summary.id: profile for profile in profiles}
    shown = links(request)
    items = []
    for relationship in found:
        if relationship.user.id not in by_id:
            continue
        item = entities.account(by_id[relationship.user.id], shown)
        if direction == "mutes":
            until = relationship.until
            item["mute_expires_at"] = iso_millis(until) if until else None
        items.append(item)
    first, last = (
        (cursor.encode(found[0].position), cursor.encode(found[-1].position))
        if found
        else (None, None)
    )
    return json_response(items, headers=link_header(request, first, last))


async def _follows(request: web.Request, direction: str) -> web.Response:
    user_id, viewer_id = id_from_path(request), _viewer_id(request)
    async with reading(request) as reader:
        await _profile(reader, user_id, viewer_id)
    return await _people(request, user_id, direction, viewer_id)


async def followers(request: web.Request) -> web.Response:
    return await _follows(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _follows(request, "following")


async def relationships(request: web.Request) -> web.Response:
    """The viewer's relationship with each account asked for (``id[]``, or ``id``) that
    exists; ids that name nobody are left out, as Mastodon does."""
    viewer = require_user(request)
    asked = request.query.getall("id[]", []) + request.query.getall("id", [])
    ids = [value for raw in asked if (value := whole_number(raw, 1, MAX_ID)) is not None]
    async with reading(request) as reader:
        found = await people.relationships_by_id(
            reader, list(dict.fromkeys(ids))[:MAX_RELATIONSHIPS], viewer.id
        )
    return json_response([entities.relationship(flags) for flags in found])


async def lookup(request: web.Request) -> web.Response:
    """An account by ``acct``: ``name``, ``@name``, or ``name@`` this instance's domain."""
    acct = request.query.get("acct", "").removeprefix("@")
    username, _at, domain = acct.partition("@")
    ours = urlsplit(request.app[settings_key].app.public_url).netloc
    if domain and domain.lower() != ours.lower():
        raise not_found()
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        user_id = await people.user_id_by_name(reader, username, viewer_id)
        if user_id is None:
            raise not_found()
        profile = await _profile(reader, user_id, viewer_id)
    return json_response(entities.account(profile, links(request)))


# How many accounts a search answers at once, as Mastodon: 40 by default, at most 80.
SEARCH_DEFAULT_LIMIT = 40
SEARCH_MAX_LIMIT = 80


async def search(request: web.Request) -> web.Response:
    """Accounts matching ``q`` by username or display name (people search, the web's
    /search): ``limit``, ``offset`` up to people.MAX_SEARCH_OFFSET, ``following`` for
    only those the viewer follows. ``resolve`` is accepted: there are no other servers to
    ask."""
    query = request.query.get("q", "").strip()
    if not query:
        raise Problem(400, _("q is required"), "invalid_q")
    limit = query_number(request, "limit", SEARCH_DEFAULT_LIMIT, 1, SEARCH_MAX_LIMIT)
    offset = query_number(request, "offset", 0, 0, people.MAX_SEARCH_OFFSET)
    following = request.query.get("following", "").lower() in {"true", "1"}
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        found = await people.search_people(reader, query, viewer_id, offset, limit, following)
    return json_response([entities.account(profile, links(request)) for profile in found])


async def _change_follow(request: web.Request, start: bool) -> web.Response:
    """Follow or unfollow an account the viewer may see; the Relationship after. Following a
    locked account asks to (``requested``); unfollowing withdraws a pending request."""
    viewer = require_confirmed(request)
    user_id = id_from_path(request)
    async with reading(request) as reader:
        await _profile(reader, user_id, viewer.id)
    if start:
        await count_action(request, viewer.id, "follows")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await follows.follow(db, viewer.id, user_id)
            else:
                await follows.unfollow(db, viewer.id, user_id)
        except follows.CannotFollowSelf as error:
            raise Problem(422, _("Validation failed: You cannot follow yourself")) from error
        except follows.Blocked as error:
            raise Problem(403, _("You are not allowed to follow this account")) from error
        except follows.UserNotFound as error:
            raise not_found() from error
    async with reading(request) as reader:
        [flags] = await people.relationships_by_id(reader, [user_id], viewer.id)
    return json_response(entities.relationship(flags))


async def follow(request: web.Request) -> web.Response:
    return await _change_follow(request, True)


async def unfollow(request: web.Request) -> web.Response:
    return await _change_follow(request, False)


async def _save_credentials(
    request: web.Request, given: dict[str, str], avatar: Spooled | None
) -> web.Response:
    """Save what was given; ``locked`` (a flag) makes the account private or public,
    ``indexable`` (a flag) lets its public posts be found by search or not."""
    viewer = require_confirmed(request)
    async with reading(request) as reader:
        own = await _profile(reader, viewer.id, viewer.id)
    values = {
        "display_name": own.summary.display_name,
        "location": own.location,
        "bio": own.bio,
    }
    for name, field in CREDENTIAL_FIELDS.items():
        if name in given:
            values[field] = trim(given[name].replace("\r\n", "\n"))
    if errors := profiles.profile_errors(values):
        field, message = next(iter(errors.items()))
        shown = {value: key for key, value in CREDENTIAL_FIELDS.items()}.get(field, field)
        raise Problem(
            422,
            _("Validation failed: %(field)s: %(message)s") % {"field": shown, "message": message},
        )
    locked = viewer.locked
    if "locked" in given:
        locked = given["locked"].lower() in {"true", "1", "on"}
    default_audience = viewer.default_audience
    if given.get(PRIVACY):
        default_audience = entities.AUDIENCE.get(given[PRIVACY], "")
        if not default_audience:
            refused = _("Validation failed: %(field)s: is not included in the list")
            raise Problem(422, refused % {"field": PRIVACY})
        if message := profiles.default_audience_error(default_audience, locked):
            raise Problem(
                422,
                _("Validation failed: %(field)s: %(message)s")
                % {"field": PRIVACY, "message": message},
            )
    elif locked and default_audience == "public":
        default_audience = "followers"  # what making the account private does to it
    async with request.app[sessionmaker_key].begin() as db:
        await profiles.update_profile(db, viewer.id, **values)
        # Locked first: a private account's default may not be public, even for a moment.
        if "locked" in given:
            await profiles.set_locked(db, viewer.id, locked)
        if given.get(PRIVACY):
            await profiles.set_default_audience(db, viewer.id, default_audience)
        if "indexable" in given:
            indexable = given["indexable"].lower() in {"true", "1", "on"}
            await profiles.set_indexable(db, viewer.id, indexable)
        if avatar is not None:
            await avatars.request_avatar(db, viewer.id, avatar.path)
    if avatar is not None:
        request.app[media_worker_key].wake()
    return await _own_account(request, viewer.id, default_audience)


async def update_credentials(request: web.Request) -> web.Response:
    """The display name, the note (the bio), ``locked`` (a private account) and the avatar,
    each only when given; the avatar goes through the same checks and jobs as the settings
    page's, and shows once processed. ``source[privacy]`` sets the default visibility of
    new posts (the default audience); ``indexable`` whether search finds its public posts.
    Mastodon's other settings (header, fields, bot, ...) are not kept here."""
    require_confirmed(request)
    if request.content_type != "multipart/form-data":
        params = await read_params(request)
        given = {
            name: value
            for name in (*CREDENTIAL_FIELDS, PRIVACY, "locked", "indexable")
            if (value := text_of(params, name)) is not None
        }
        return await _save_credentials(request, given, None)
    try:
        async with received(request, AVATAR_FILES, CREDENTIAL_TEXTS) as form:
            [avatar] = form.files.get("avatar") or [None]
            given = {name: form.texts[name] for name in CREDENTIAL_TEXTS if name in form.texts}
            return await _save_credentials(request, given, avatar)
    except UploadError as error:
        raise Problem(error.status, error.message) from error


async def blocks(request: web.Request) -> web.Response:
    """Whom the user blocked, newest first."""
    viewer = require_user(request)
    return await _people(request, viewer.id, "blocks", viewer.id)


async def mutes(request: web.Request) -> web.Response:
    """Whom the user muted, while the mutes last, newest first."""
    viewer = require_user(request)
    return await _people(request, viewer.id, "mutes", viewer.id)


async def _relationship_with(request: web.Request, target_id: int, viewer_id: int):
    async with reading(request) as reader:
        [found] = await people.relationships_by_id(reader, [target_id], viewer_id) or [None]
    if found is None:
        raise not_found()
    return found


async def _changed(request: web.Request, change) -> web.Response:
    """Do ``change`` to the account in the path, and answer the Relationship after it."""
    viewer, target_id = require_user(request), id_from_path(request)
    await _relationship_with(request, target_id, viewer.id)  # 404 for nobody
    await change(request, target_id)
    return json_response(
        entities.relationship(await _relationship_with(request, target_id, viewer.id))
    )


async def block(request: web.Request) -> web.Response:
    return await _changed(request, lambda r, target: change_block(r, target, start=True))


async def unblock(request: web.Request) -> web.Response:
    return await _changed(request, lambda r, target: change_block(r, target, start=False))


async def mute(request: web.Request) -> web.Response:
    """``duration`` in seconds, 0 or none for until unmuted. ``notifications`` is read as
    true whatever it says: a mute here always hides the muted person's notifications."""

    async def muting(r: web.Request, target: int) -> None:
        await change_mute(r, target, True, await duration_param(r))

    return await _changed(request, muting)


async def unmute(request: web.Request) -> web.Response:
    return await _changed(request, lambda r, target: change_mute(r, target, start=False))


async def remove_from_followers(request: web.Request) -> web.Response:
    return await _changed(request, remove_follower)


async def follow_requests(request: web.Request) -> web.Response:
    """Who asks to follow the user, newest first."""
    viewer = require_user(request)
    return await _people(request, viewer.id, "follow_requests", viewer.id)


async def authorize_follow_request(request: web.Request) -> web.Response:
    return await _answered(request, approve=True)


async def reject_follow_request(request: web.Request) -> web.Response:
    return await _answered(request, approve=False)


async def _answered(request: web.Request, approve: bool) -> web.Response:
    """Approve or reject the request of the account in the path; its Relationship after.
    An account that asked nothing (or is nobody) is 404, as in Mastodon."""
    viewer, requester_id = require_user(request), id_from_path(request)
    await answer_request(request, requester_id, approve)
    return json_response(
        entities.relationship(await _relationship_with(request, requester_id, viewer.id))
    )
