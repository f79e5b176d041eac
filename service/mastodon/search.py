"""/api/v2/search: accounts, statuses and hashtags matching ``q``, as the web's /search finds
them (docs/discovery.md)."""

from __future__ import annotations

from aiohttp import web

from service.cursor import MAX_ID
from service.mastodon import entities
from service.mastodon.common import json_response, links, listed_statuses
from service.reads import people
from service.reads import search as found_by
from service.web.auth import current_user
from service.web.params import query_number, whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

# As Mastodon: 20 of each kind by default, at most 40.
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
TYPES = {"accounts", "statuses", "hashtags"}


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"true", "1", "on"}


async def search(request: web.Request) -> web.Response:
    """``q``; ``type`` for one kind; ``limit`` (up to 40) and ``offset`` (up to the search's
    bound) for each kind; ``following`` for accounts the viewer follows and their posts;
    ``account_id`` for the statuses of one account. ``resolve`` is accepted (there are no
    other servers to ask), ``exclude_unreviewed`` too (tags need no review here), and
    ``max_id``/``min_id`` ignored: results are ranked, not in id order."""
    query = request.query.get("q", "").strip()
    if not query:
        raise Problem(400, "q is required", "invalid_q")
    kind = request.query.get("type", "")
    if kind and kind not in TYPES:
        raise Problem(400, "type must be accounts, statuses or hashtags", "invalid_type")
    limit = query_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = query_number(request, "offset", 0, 0, found_by.MAX_SEARCH_OFFSET)
    following = _flag(request, "following")
    author_id = None
    if "account_id" in request.query:
        author_id = whole_number(request.query["account_id"], 0, MAX_ID)
        if author_id is None:
            raise Problem(400, "account_id must be an account's id", "invalid_account_id")
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    accounts: list = []
    statuses: list = []
    hashtags: list = []
    async with reading(request) as reader:
        # An account_id asks for that account's statuses: no accounts or tags are its.
        if kind in ("", "accounts") and author_id is None:
            accounts = await people.search_people(
                reader, query, viewer_id, offset, limit, following
            )
        if kind in ("", "statuses"):
            hits = await found_by.search_posts(
                reader, media_urls(request), query, viewer_id, offset, limit, following,
                author_id,
            )  # fmt: skip
            statuses = [hit.status for hit in hits]
        if kind in ("", "hashtags") and author_id is None:
            hashtags = await found_by.search_tags(reader, query, viewer_id, offset, limit)
    found = links(request)
    return json_response(
        {
            "accounts": [entities.account(profile, found) for profile in accounts],
            "statuses": listed_statuses(request, statuses),
            "hashtags": [entities.tag(tag, found) for tag in hashtags],
        }
    )
