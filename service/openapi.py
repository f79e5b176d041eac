"""Snapline's own JSON API (SPEC §4, /api/snapline/v1) as an OpenAPI 3.1 document.

Written out here as data, not derived from the handlers: it is the contract apps build
against, read by a person before it is read by a generator. The limits it states are the
service's own constants, so a changed limit changes the document with it.
``service/api/openapi.py`` serves it; ``tests/test_openapi.py`` holds it to the router (every
route and method, each route's token scope) and to the OpenAPI 3.1 schema, and
``tests/test_openapi_conformance.py`` holds the running service to it with schemathesis.

Response objects list every field they carry (``additionalProperties: false``): a field
added to a serializer without its line here fails the conformance test, so the document
never falls behind the answers."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from service import scopes
from service.cursor import MAX_CURSOR_CHARS, MAX_ID
from service.discovery import MAX_MENTIONS, TAG_MAX_CHARS
from service.domain.posts import MAX_PHOTOS_PER_POST
from service.domain.tag_follows import MAX_FOLLOWED_TAGS
from service.models import (
    AUDIENCES,
    MAX_ALT_CHARS,
    MAX_COMMENT_BODY_CHARS,
    MAX_MODERATION_TEXT_CHARS,
    MAX_POST_BODY_CHARS,
    NOTIFICATION_KINDS,
    POST_STATUSES,
    REPORT_CATEGORIES,
    REPORT_KINDS,
    REPORT_RESOLUTIONS,
)
from service.reads.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.reads.people import MAX_SUGGESTIONS
from service.reads.search import MAX_SEARCH_OFFSET
from service.web.auth import SESSION_COOKIE
from service.web.csrf import CSRF_FIELD, CSRF_HEADER
from service.web.errors import DATABASE_RETRY_AFTER_SECONDS
from service.web.uploads import MAX_PHOTO_BYTES, MAX_REQUEST_BYTES
from service.workers.media.images import MEDIA_TYPE_FORMATS

OPENAPI_VERSION = "3.1.1"
# Where the API lives; the paths below are relative to it (a relative server URL is
# resolved against the document's own address, so the document is the same on every host).
BASE_PATH = "/api/snapline/v1"
# The longest mute with an end, in seconds (service.api.common.MAX_DURATION_SECONDS).
MAX_MUTE_SECONDS = 2**31 - 1
MEBIBYTE = 1024 * 1024


def _photo_media_types() -> str:
    """The photo types a part may declare, one spelling each (aliases such as image/jpg are
    accepted too, and the content decides whatever the part says)."""
    first: dict[str, str] = {}
    for media_type, image_format in MEDIA_TYPE_FORMATS.items():
        first.setdefault(image_format, media_type)
    return ", ".join(first.values())


PHOTO_MEDIA_TYPES = _photo_media_types()
USERNAME_PATTERN = "^[A-Za-z0-9_]{3,30}$"


# Who a post is for (docs/privacy.md).
AUDIENCE = {
    "enum": list(AUDIENCES),
    "description": "`public`: everyone, everywhere; `unlisted`: everyone, but not on explore "
    "or the public timelines; `followers`: only the author's followers and the author.",
}

# ---------------------------------------------------------------------------------------
# Small builders for the parts every operation repeats.


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    return _ref("schemas", name)


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A response object: every field always present, and no other."""
    shape = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    return {"description": description, **shape} if description else shape


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, with `Z`."}
URL = {
    "type": "string",
    "format": "uri-reference",
    "description": "Absolute, or relative to the server's root.",
}
COUNT = {"type": "integer", "minimum": 0}
ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TAGS = {
    "type": "array",
    "items": {"$ref": "#/components/schemas/Tag"},
    "description": "Its hashtags, each once, in order of appearance.",
}
MENTIONS = {
    "type": "array",
    "items": {"$ref": "#/components/schemas/Mention"},
    "maxItems": MAX_MENTIONS,
    "description": "The accounts it mentions that existed when it was written, in order.",
}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "headers": _RATE_LIMIT_HEADERS}
    if schema is not None:
        answer["content"] = _json(schema)
    return answer


def _page(item: str) -> dict[str, Any]:
    return _ok(f"A page of {item}s.", _page_schema(item))


def _page_schema(item: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _schema(item), "maxItems": MAX_PAGE_SIZE},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page.",
            },
        }
    )


def _errors(*statuses: str) -> dict[str, Any]:
    """The refusals an operation can give, by their names under components/responses, with
    503 (the database unreachable), which every operation can give."""
    return {_ERROR_STATUS[name]: _ref("responses", name) for name in (*statuses, "Unavailable")}


_ERROR_STATUS = {
    "BadRequest": "400",
    "LoginRequired": "401",
    "InvalidToken": "401",
    "Forbidden": "403",
    "OutsideScopes": "403",
    "NotFound": "404",
    "PayloadTooLarge": "413",
    "UnsupportedMediaType": "415",
    "Unprocessable": "422",
    "TooManyRequests": "429",
    "Unavailable": "503",
}

# What any operation a token can call may answer because of the token: an invalid one,
# too few scopes, too many requests. Operations that need a user answer 401 and 403 for
# more reasons, with both shapes (LoginRequired, Forbidden).
TOKEN_REFUSALS = ("InvalidToken", "OutsideScopes", "TooManyRequests")


def _reader(scope: str) -> list[dict[str, list[str]]]:
    """Anyone: anonymous, the session, or a token with ``scope``."""
    return [{}, {"session": []}, {"bearer": [scope]}, {"oauth2": [scope]}]


def _signed_in(scope: str) -> list[dict[str, list[str]]]:
    """A signed-in person: the session, or a token with ``scope`` held for a person."""
    return [{"session": []}, {"bearer": [scope]}, {"oauth2": [scope]}]


def _writer(scope: str) -> list[dict[str, list[str]]]:
    """A change: the session with its CSRF token, or a token with ``scope``."""
    return [{"session": [], "csrf": []}, {"bearer": [scope]}, {"oauth2": [scope]}]


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    security: list[dict[str, list[str]]],
    responses: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": security,
        **extra,
        "responses": responses,
    }


def _json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": _json(schema)}


PAGING = [_ref("parameters", "cursor"), _ref("parameters", "limit")]
POST_ID = _ref("parameters", "postId")
COMMENT_ID = _ref("parameters", "commentId")
USERNAME = _ref("parameters", "username")

# Answers of the reads anyone may make, and of the reads only a person may make.
READ_ERRORS = _errors("BadRequest", *TOKEN_REFUSALS)
USER_READ_ERRORS = _errors("BadRequest", "LoginRequired", "OutsideScopes", "TooManyRequests")
# Any change: who may make it (401, 403), and a form body that carries the CSRF token in
# place of the header, which may be unreadable (400) or too large (413).
SENDER_ERRORS = ("BadRequest", "LoginRequired", "Forbidden", "PayloadTooLarge", "TooManyRequests")
# A change without a body of its own, to something named in the path (404).
CHANGE_ERRORS = _errors(*SENDER_ERRORS, "NotFound")
# A change with a body adds what may be wrong with the body.
BODY_ERRORS = (*SENDER_ERRORS, "UnsupportedMediaType", "Unprocessable")


# ---------------------------------------------------------------------------------------
# The shapes (SPEC §4).

SCHEMAS: dict[str, Any] = {
    "UserSummary": _object(
        {
            "username": {"type": "string", "pattern": USERNAME_PATTERN},
            "display_name": {"type": "string", "description": "Empty when none is set."},
            "avatar_url": URL,
            "url": {**URL, "description": "The profile page."},
        },
        "A person where they appear beside something: an author, an actor.",
    ),
    "User": _object(
        {
            "username": {"type": "string", "pattern": USERNAME_PATTERN},
            "display_name": {"type": "string"},
            "avatar_url": URL,
            "url": {**URL, "description": "The profile page."},
            "bio": {"type": "string"},
            "location": {"type": "string"},
            "created_at": {**TIME, "description": "When they joined."},
            "followers_count": COUNT,
            "following_count": COUNT,
            "post_count": COUNT,
            "following": {"type": "boolean", "description": "The viewer follows them."},
            "follows_you": {"type": "boolean", "description": "They follow the viewer."},
            "blocking": {"type": "boolean", "description": "The viewer blocked them."},
            "muting": {"type": "boolean", "description": "The viewer muted them."},
            "mute_expires_at": {
                **_nullable(TIME),
                "description": "When the mute ends; null while not muted or muted for good.",
            },
            "locked": {
                "type": "boolean",
                "description": "A private account: each new follower asks first.",
            },
            "requested": {
                "type": "boolean",
                "description": "The viewer asked to follow them; not answered yet.",
            },
            "indexable": {
                "type": "boolean",
                "description": "Their public posts may be found by anyone's search "
                "(a setting of theirs; docs/discovery.md).",
            },
        },
        "A profile as the viewer sees it: never the email, password or tokens.",
    ),
    "Relationship": _object(
        {"user": _schema("UserSummary"), "since": {**TIME, "description": "When it began."}},
        "One person in a list of followers or of those followed.",
    ),
    "Rendition": _object(
        {
            "url": URL,
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
            "type": {"type": "string", "description": "Its media type, e.g. `image/webp`."},
        },
        "One width of a photo, for `srcset`.",
    ),
    "Photo": _object(
        {
            "url": {**URL, "description": "The display size, longest edge 1080 px."},
            "thumb_url": {**URL, "description": "A 320 px square."},
            "width": {"type": "integer", "minimum": 1, "description": "Of the display size."},
            "height": {"type": "integer", "minimum": 1},
            "alt": {"type": "string", "maxLength": MAX_ALT_CHARS},
            "renditions": {
                "type": "array",
                "items": _schema("Rendition"),
                "description": "Narrowest first; empty until made for an older photo.",
            },
            "blurhash": {
                "type": ["string", "null"],
                "description": "A BlurHash to show while the photo loads.",
            },
        }
    ),
    "Post": _object(
        {
            "id": ROW_ID,
            "url": {**URL, "description": "The post's page."},
            "author": _schema("UserSummary"),
            "body": {"type": "string", "maxLength": MAX_POST_BODY_CHARS},
            "created_at": TIME,
            "published_at": {
                **_nullable(TIME),
                "description": "When it reached timelines; null until its photos are ready.",
            },
            "status": {
                "enum": list(POST_STATUSES),
                "description": "`processing` and `failed` posts are shown to their author only.",
            },
            "photos": {
                "type": "array",
                "items": _schema("Photo"),
                "maxItems": MAX_PHOTOS_PER_POST,
            },
            "like_count": COUNT,
            "comment_count": COUNT,
            "views": {
                **_nullable(COUNT),
                "description": "How many times it was seen (docs/trending.md): for its "
                "author only, null for everyone else.",
            },
            "liked": {"type": "boolean", "description": "The viewer likes it."},
            "sensitive": {
                "type": "boolean",
                "description": "The moderators marked its photos sensitive: show them behind "
                "a cover.",
            },
            "audience": AUDIENCE,
            "tags": TAGS,
            "mentions": MENTIONS,
        }
    ),
    "Comment": _object(
        {
            "id": ROW_ID,
            "post_id": ROW_ID,
            "author": _schema("UserSummary"),
            "body": {"type": "string", "maxLength": MAX_COMMENT_BODY_CHARS},
            "created_at": TIME,
            "tags": TAGS,
            "mentions": MENTIONS,
        }
    ),
    "Tag": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "Normalised: NFKC and case folded (docs/discovery.md).",
            },
            "url": {**URL, "description": "The tag's page."},
        },
        "A hashtag in a text.",
    ),
    "FoundTag": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "Normalised: NFKC and case folded (docs/discovery.md).",
            },
            "display": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "As first written.",
            },
            "url": {**URL, "description": "The tag's page."},
            "post_count": {**COUNT, "description": "Its published posts, for everyone."},
        },
        "A hashtag a search found.",
    ),
    "FoundPost": _object(
        {
            "post": _schema("Post"),
            "snippet_html": {
                "type": "string",
                "description": "The part of its text that matched, as HTML: the text "
                "escaped, the matching words in `<mark>` elements, and nothing else.",
            },
        },
        "A post a search found.",
    ),
    "SearchResults": _object(
        {
            "people": {"type": "array", "items": _schema("User"), "maxItems": MAX_PAGE_SIZE},
            "tags": {"type": "array", "items": _schema("FoundTag"), "maxItems": MAX_PAGE_SIZE},
            "posts": {"type": "array", "items": _schema("FoundPost"), "maxItems": MAX_PAGE_SIZE},
            "next_offset": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "With `type`: pass as `offset` for the next page; null on the "
                "last. Always null without `type`.",
            },
        },
        "What a search found, best first in each kind.",
    ),
    "TrendingTag": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "Normalised: NFKC and case folded (docs/discovery.md).",
            },
            "display": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "As it was first written.",
            },
            "url": {**URL, "description": "The tag's page."},
            "post_count": COUNT,
            "uses": {**COUNT, "description": "Its posts among the top trending posts."},
            "accounts": {**COUNT, "description": "The people who wrote those posts."},
        },
        "A hashtag among what trends (docs/trending.md).",
    ),
    "Mention": _object(
        {
            "id": ROW_ID,
            "username": {"type": "string"},
            "url": {**URL, "description": "Their profile."},
        },
        "An account a text mentions, resolved when it was written.",
    ),
    "Notification": _object(
        {
            "id": ROW_ID,
            "kind": {"enum": list(NOTIFICATION_KINDS)},
            "actor": _schema("UserSummary"),
            "post_id": {
                **_nullable(ROW_ID),
                "description": "The post liked, commented on or mentioning the reader; null "
                "for a follow, a follow request (`follow_request`, to the owner of a private "
                "account) and its approval (`follow_accepted`, to the one who asked).",
            },
            "comment_id": {
                **_nullable(ROW_ID),
                "description": "The comment made, or mentioning the reader; null otherwise.",
            },
            "created_at": TIME,
            "read": {"type": "boolean"},
        }
    ),
    "Report": _object(
        {
            "id": ROW_ID,
            "kind": {"enum": list(REPORT_KINDS)},
            "username": {"type": "string", "description": "Whose post, comment or account."},
            "category": {"enum": list(REPORT_CATEGORIES)},
            "comment": {"type": "string", "maxLength": MAX_MODERATION_TEXT_CHARS},
            "created_at": TIME,
            "status": {"enum": ["open", "resolved"]},
            "outcome": {"enum": [None, *REPORT_RESOLUTIONS]},
        },
        "A report to the moderators, as its reporter sees it.",
    ),
    "FollowState": _object(
        {
            "following": {"type": "boolean"},
            "followers_count": COUNT,
            "requested": {
                "type": "boolean",
                "description": "The account is private: the viewer asked to follow it, and "
                "follows once its owner approves.",
            },
        },
        "Whether the viewer now follows them (or asked to), and their follower count after.",
    ),
    "HashtagInfo": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "Normalised: NFKC and case folded (docs/discovery.md).",
            },
            "display": {
                "type": "string",
                "minLength": 1,
                "maxLength": TAG_MAX_CHARS,
                "description": "As first written (or first followed).",
            },
            "url": {**URL, "description": "The tag's page."},
            "post_count": COUNT,
            "following": {
                "type": "boolean",
                "description": "The viewer follows it: its public posts come into their home "
                "timeline.",
            },
        },
        "A hashtag, its published posts, and whether the viewer follows it.",
    ),
    "LikeState": _object(
        {"liked": {"type": "boolean"}, "like_count": COUNT},
        "Whether the viewer now likes the post, and its like count after.",
    ),
    "PostPage": _page_schema("Post"),
    "CommentPage": _page_schema("Comment"),
    "RelationshipPage": _page_schema("Relationship"),
    "NotificationPage": _page_schema("Notification"),
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {
                        "type": "string",
                        "pattern": "^[a-z][a-z0-9_]*$",
                        "description": "What went wrong, for programs: `login_required`, "
                        "`csrf_failed`, `invalid_cursor`, `invalid_body`, ...",
                    },
                    "message": {
                        "type": "string",
                        "minLength": 1,
                        "description": "What went wrong, for people.",
                    },
                }
            )
        },
        "Snapline's error envelope (SPEC §4).",
    ),
    "TokenError": _object(
        {"error": {"type": "string", "minLength": 1}},
        "A bearer token refused before the request reaches Snapline's API, answered as "
        "Mastodon and RFC 6750 do for every route: invalid (401), outside its scopes "
        "(403), or over its rate limit (429).",
    ),
}

# ---------------------------------------------------------------------------------------
# Parameters, headers and the refusals operations share.

PARAMETERS = {
    "cursor": {
        "name": "cursor",
        "in": "query",
        "description": "The `next_cursor` of the page before; opaque. A malformed one is 400, "
        "an empty one the first page.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": MAX_CURSOR_CHARS},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "Items per page.",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        },
    },
    "tag": {
        "name": "tag",
        "in": "path",
        "required": True,
        "description": "A hashtag in any spelling, with or without its `#` "
        "(docs/discovery.md); a name that cannot be a tag is 404.",
        "schema": {"type": "string", "minLength": 1},
    },
    "postId": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "A post's id; anything else names no post (404).",
        "schema": ROW_ID,
    },
    "commentId": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "A comment's id; anything else names no comment (404).",
        "schema": ROW_ID,
    },
    "username": {
        "name": "username",
        "in": "path",
        "required": True,
        "description": "Matched without regard to case.",
        "schema": {"type": "string", "pattern": USERNAME_PATTERN},
    },
}

HEADERS = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Limit": {
        "description": "Bearer requests only: requests the token may make in each window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Bearer requests only: requests left in this window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "Bearer requests only: when the window ends (ISO 8601, UTC).",
        "schema": {"type": "string", "format": "date-time"},
    },
    "WWW-Authenticate": {
        "description": "Why the token was refused (RFC 6750 §3).",
        "schema": {"type": "string"},
    },
    "X-Request-Id": {
        "description": "The request's id, to quote when reporting a problem.",
        "schema": {"type": "string"},
    },
}

_RATE_LIMIT_HEADERS = {
    name: _ref("headers", name)
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
}
_REQUEST_ID = {"X-Request-Id": _ref("headers", "X-Request-Id")}
_REFUSED_TOKEN_HEADERS = {**_REQUEST_ID, "WWW-Authenticate": _ref("headers", "WWW-Authenticate")}


def _refusal(description: str, *shapes: str, headers: dict[str, Any] | None = None) -> dict:
    schema = _schema(shapes[0]) if len(shapes) == 1 else {"oneOf": [_schema(s) for s in shapes]}
    return {
        "description": description,
        "headers": headers if headers is not None else _REQUEST_ID,
        "content": _json(schema),
    }


RESPONSES = {
    "BadRequest": _refusal(
        "The request is malformed: a bad `cursor` or `limit`, a body that is not a JSON "
        "object or nests too deep, an unreadable upload or form (one that carries "
        f"`{CSRF_FIELD}` in place of the header, too).",
        "Error",
    ),
    "LoginRequired": _refusal(
        "No person is signed in (`login_required`; also an app's own token, which has no "
        "person), or the bearer token is invalid (`TokenError`).",
        "Error",
        "TokenError",
        headers=_REFUSED_TOKEN_HEADERS,
    ),
    "InvalidToken": _refusal(
        "The bearer token is unknown, revoked, or its person suspended.",
        "TokenError",
        headers=_REFUSED_TOKEN_HEADERS,
    ),
    "Forbidden": _refusal(
        "Not allowed: a missing or wrong CSRF token (`csrf_failed`), an unconfirmed email "
        "(`email_unconfirmed`), someone else's post or comment, a follow a block forbids; "
        "or a bearer token without the scope (`TokenError`).",
        "Error",
        "TokenError",
        headers=_REFUSED_TOKEN_HEADERS,
    ),
    "OutsideScopes": _refusal(
        "The bearer token lacks the operation's scope, or the operation is not open to tokens.",
        "TokenError",
        headers=_REFUSED_TOKEN_HEADERS,
    ),
    "NotFound": _refusal(
        "No such post, comment or person, or one the viewer may not see.", "Error"
    ),
    "PayloadTooLarge": _refusal(
        f"The body is too large: a JSON body past 64 KiB, a form past 1 MiB, a photo past "
        f"{MAX_PHOTO_BYTES // MEBIBYTE} MiB, an upload past {MAX_REQUEST_BYTES // MEBIBYTE} "
        "MiB.",
        "Error",
    ),
    "UnsupportedMediaType": _refusal(
        "The body is of a media type the operation does not take, or a file is not a photo.",
        "Error",
    ),
    "Unprocessable": _refusal(
        "A field is invalid: too long, empty where text is needed, of the wrong type; or the "
        "action makes no sense (following, blocking or reporting oneself).",
        "Error",
    ),
    "TooManyRequests": _refusal(
        "The bearer token, or its client's address, made too many requests in the window "
        "(`TokenError`); or, for a post, comment, like or follow, the account or its address "
        "made too many of them (`rate_limited`, docs/moderation.md's posting limits).",
        "Error",
        "TokenError",
        headers={
            **_REQUEST_ID,
            "Retry-After": _ref("headers", "Retry-After"),
            **_RATE_LIMIT_HEADERS,
        },
    ),
    "Unavailable": _refusal(
        f"The database is unreachable; retry after `Retry-After` seconds "
        f"({DATABASE_RETRY_AFTER_SECONDS}).",
        "Error",
        headers={**_REQUEST_ID, "Retry-After": _ref("headers", "Retry-After")},
    ),
}

_SCOPE_GROUPS = {
    "read": "read everything the person may read",
    "write": "change everything the person may change",
    "follow": "follow, block and mute (Mastodon's older name for those six scopes)",
    "push": "accepted, grants nothing (there is no Web Push)",
    "profile": "the person's own identity only",
}


def _scope_descriptions() -> dict[str, str]:
    described = {}
    for scope in sorted(scopes.KNOWN, key=lambda scope: (":" in scope, scope)):
        group, _, area = scope.partition(":")
        described[scope] = _SCOPE_GROUPS.get(scope) or f"{group} {area}"
    return described


SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "A browser's session, from signing in on the login page. Every "
        "change also needs the `csrf` token.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": 'The session\'s CSRF token, from `<meta name="csrf-token">` of any '
        f"page; a multipart upload may send it as its first part, `{CSRF_FIELD}`, instead. "
        "Needed by every change made with the session; a missing or wrong one is 403 "
        "`csrf_failed`. Bearer requests need none.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (Settings, Access tokens) or an OAuth "
        "token, as `Authorization: Bearer <token>`. The scopes an operation lists are the "
        "ones the token needs (Mastodon's, where `read` includes every `read:*` and "
        "`write` every `write:*`). Each answer carries the token's rate limit.",
    },
    "oauth2": {
        "type": "oauth2",
        "description": "Mastodon's OAuth 2 flow: register the app with `POST /api/v1/apps`, "
        "then the authorization code flow with PKCE (S256). An app's own token "
        "(client credentials) has no person: what needs one answers it 401.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": "/oauth/token",
                "scopes": _scope_descriptions(),
            },
            "clientCredentials": {
                "tokenUrl": "/oauth/token",
                "scopes": _scope_descriptions(),
            },
        },
    },
}

# ---------------------------------------------------------------------------------------
# The operations.

POST_JSON = {
    "type": "object",
    "required": ["body"],
    "properties": {
        "body": {
            "type": "string",
            "maxLength": MAX_POST_BODY_CHARS,
            "description": "The text; a post needs some (or a photo, sent as multipart).",
        },
        "audience": {**AUDIENCE, "description": "Who may see it; the user's default if absent."},
    },
}
POST_FORM = {
    "type": "object",
    "properties": {
        CSRF_FIELD: {
            "type": "string",
            "description": f"With the session and no `{CSRF_HEADER}` header: the CSRF "
            "token, as the first part.",
        },
        "body": {"type": "string", "maxLength": MAX_POST_BODY_CHARS},
        "audience": {**AUDIENCE, "description": "Who may see it; the user's default if absent."},
        "photos": {
            "type": "array",
            "maxItems": MAX_PHOTOS_PER_POST,
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            "description": f"JPEG, PNG, WebP or GIF (its first frame), each at most "
            f"{MAX_PHOTO_BYTES // MEBIBYTE} MiB.",
        },
        "alt": {
            "type": "array",
            "maxItems": MAX_PHOTOS_PER_POST,
            "items": {"type": "string", "maxLength": MAX_ALT_CHARS},
            "description": "Alt text of each photo, in the same order.",
        },
    },
}
COMMENT_JSON = {
    "type": "object",
    "required": ["body"],
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT_BODY_CHARS}},
}
DURATION = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_MUTE_SECONDS,
    "description": "Seconds the mute lasts; 0 or none: until unmuted.",
}
DURATION_DIGITS = {
    "type": "string",
    "pattern": "^[0-9]{0,10}$",
    "description": "Seconds, as digits; empty: until unmuted.",
}
MUTE_JSON = {
    "type": "object",
    "properties": {"duration": {"oneOf": [DURATION, DURATION_DIGITS, {"type": "null"}]}},
}
MUTE_FORM = {"type": "object", "properties": {"duration": DURATION_DIGITS}}
REPORT_JSON = {
    "type": "object",
    "description": "Exactly one of `post_id`, `comment_id` or `username`.",
    "required": ["category"],
    "properties": {
        "post_id": ROW_ID,
        "comment_id": ROW_ID,
        "username": {"type": "string"},
        "category": {"enum": list(REPORT_CATEGORIES)},
        "comment": {"type": "string", "maxLength": MAX_MODERATION_TEXT_CHARS},
    },
    "oneOf": [
        {"required": ["post_id"]},
        {"required": ["comment_id"]},
        {"required": ["username"]},
    ],
}

# What may be wrong with following, blocking or muting someone: who asks (401, 403) and
# whom (404). Starting one with oneself is 422 too; ending one is harmless.
RELATIONSHIP_ERRORS = (*SENDER_ERRORS, "NotFound")


def _user_action(
    operation_id: str, summary: str, scope: str, refusals: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    """Block, mute, remove a follower, and their undoing: each answers the user as the
    viewer now sees them. ``refusals``: what else the operation may refuse."""
    return _operation(
        operation_id,
        summary,
        "users",
        _writer(scope),
        {
            "200": _ok("The user as the viewer now sees them.", _schema("User")),
            **_errors(*refusals, *RELATIONSHIP_ERRORS),
        },
        **extra,
    )


BLOCKING = (
    "Ends their follow of the viewer and the viewer's of them; neither sees the other "
    "anywhere after. Oneself is 422."
)

PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": _operation(
            "getOpenApiDocument",
            "This document",
            "meta",
            [],
            {
                "200": {
                    "description": "The OpenAPI 3.1 document of this API.",
                    "content": _json({"type": "object", "required": ["openapi", "info", "paths"]}),
                },
            },
            description="Public: asks nobody's session or token (either is ignored) and no "
            "database.",
        )
    },
    "/timeline": {
        "get": _operation(
            "getTimeline",
            "The home timeline",
            "timelines",
            _signed_in("read:statuses"),
            {"200": _page("Post"), **USER_READ_ERRORS},
            description="The viewer's own posts and those of everyone they follow, newest "
            "published first.",
            parameters=PAGING,
        )
    },
    "/search": {
        "get": _operation(
            "search",
            "Search for people, tags and posts",
            "search",
            _reader("read:search"),
            {"200": _ok("What was found.", _schema("SearchResults")), **READ_ERRORS},
            description="People by username and display name; tags by the start of their "
            "name; posts by their words (English by stem, Chinese, Japanese and Korean words "
            "inside a sentence): the viewer's own, those of people they follow, and public "
            "posts of accounts that let theirs be found (docs/discovery.md). Best first.",
            parameters=[
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "description": "What to look for; longer than 100 characters is cut.",
                    "schema": {"type": "string", "minLength": 1},
                },
                {
                    "name": "type",
                    "in": "query",
                    "description": "One kind only, paged by `offset`.",
                    "schema": {"enum": ["people", "tags", "posts"]},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "description": "How many of each kind to skip.",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEARCH_OFFSET},
                },
                _ref("parameters", "limit"),
            ],
        )
    },
    "/explore": {
        "get": _operation(
            "getExplore",
            "Every published post",
            "timelines",
            _reader("read:statuses"),
            {"200": _page("Post"), **READ_ERRORS},
            description="Newest published first, as the viewer may see them.",
            parameters=PAGING,
        )
    },
    "/trending": {
        "get": _operation(
            "getTrending",
            "Trending posts",
            "timelines",
            _reader("read:statuses"),
            {"200": _page("Post"), **READ_ERRORS},
            description="Everyone's public posts ranked by likes, comments and views with "
            "time decay (docs/trending.md), highest first, as the viewer may see them.",
            parameters=[
                *PAGING,
                {
                    "name": "photos",
                    "in": "query",
                    "description": "Only posts with photos.",
                    "schema": {"enum": ["true", "false"], "default": "false"},
                },
            ],
        )
    },
    "/trending/tags": {
        "get": _operation(
            "getTrendingTags",
            "Trending hashtags",
            "timelines",
            _reader("read:statuses"),
            {
                "200": _ok(
                    "The tags of the top trending posts, most used by most people first: one page.",
                    _object(
                        {
                            "items": {
                                "type": "array",
                                "items": _schema("TrendingTag"),
                                "maxItems": 20,
                            },
                            "next_cursor": {"type": "null"},
                        }
                    ),
                ),
                **READ_ERRORS,
            },
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "description": "How many tags.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 10},
                }
            ],
        )
    },
    "/posts": {
        "post": _operation(
            "createPost",
            "Make a post",
            "posts",
            _writer("write:statuses"),
            {
                "201": _ok("A text post, published.", _schema("Post")),
                "202": _ok(
                    "A post with photos, `processing` until every photo is ready.",
                    _schema("Post"),
                ),
                **_errors(*BODY_ERRORS),
            },
            description="JSON for a text post, or multipart as the page's form sends it, "
            "with up to four photos. Needs a confirmed email.",
            requestBody={
                "required": True,
                "content": {
                    "application/json": {"schema": POST_JSON},
                    "multipart/form-data": {
                        "schema": POST_FORM,
                        "encoding": {"photos": {"contentType": PHOTO_MEDIA_TYPES}},
                    },
                },
            },
        )
    },
    "/posts/{id}": {
        "parameters": [POST_ID],
        "get": _operation(
            "getPost",
            "A post",
            "posts",
            _reader("read:statuses"),
            {"200": _ok("The post.", _schema("Post")), **_errors("NotFound", *TOKEN_REFUSALS)},
        ),
        "delete": _operation(
            "deletePost",
            "Delete a post",
            "posts",
            _writer("write:statuses"),
            {"204": _ok("Deleted."), **CHANGE_ERRORS},
            description="One's own; moderators and admins may delete anyone's.",
        ),
    },
    "/posts/{id}/like": {
        "parameters": [POST_ID],
        "post": _operation(
            "likePost",
            "Like a post",
            "posts",
            _writer("write:favourites"),
            {"200": _ok("Liked (again, harmlessly).", _schema("LikeState")), **CHANGE_ERRORS},
        ),
        "delete": _operation(
            "unlikePost",
            "Take a like back",
            "posts",
            _writer("write:favourites"),
            {"200": _ok("Not liked.", _schema("LikeState")), **CHANGE_ERRORS},
        ),
    },
    "/posts/{id}/comments": {
        "parameters": [POST_ID],
        "get": _operation(
            "listComments",
            "A post's comments",
            "posts",
            _reader("read:statuses"),
            {
                "200": _page("Comment"),
                **_errors("BadRequest", "NotFound", *TOKEN_REFUSALS),
            },
            description="Oldest first.",
            parameters=PAGING,
        ),
        "post": _operation(
            "createComment",
            "Comment on a post",
            "posts",
            _writer("write:statuses"),
            {
                "201": _ok("The comment.", _schema("Comment")),
                **_errors(*BODY_ERRORS, "NotFound"),
            },
            description="Needs a confirmed email.",
            requestBody=_json_body(COMMENT_JSON, "The comment's text."),
        ),
    },
    "/comments/{id}": {
        "parameters": [COMMENT_ID],
        "delete": _operation(
            "deleteComment",
            "Delete a comment",
            "posts",
            _writer("write:statuses"),
            {"204": _ok("Deleted."), **CHANGE_ERRORS},
            description="One's own, or any on one's own post; moderators and admins may "
            "delete anyone's.",
        ),
    },
    "/people/suggestions": {
        "get": _operation(
            "suggestPeople",
            "People to mention",
            "users",
            _signed_in("read:accounts"),
            {
                "200": _ok(
                    "The people, best first.",
                    _object(
                        {
                            "items": {
                                "type": "array",
                                "items": _schema("UserSummary"),
                                "maxItems": MAX_SUGGESTIONS,
                            }
                        }
                    ),
                ),
                **USER_READ_ERRORS,
            },
            description="Whom to suggest as a username is typed after `@`: the person "
            "whose username `q` is, then people the viewer follows, then anyone whose "
            "username or display name matches, as the people search finds them "
            "(docs/discovery.md); never the viewer, nor anyone a block or suspension hides.",
            parameters=[
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "description": "What is typed after `@` so far.",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,30}$"},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "description": "How many at most.",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_SUGGESTIONS,
                        "default": MAX_SUGGESTIONS,
                    },
                },
            ],
        ),
    },
    "/users/{username}": {
        "parameters": [USERNAME],
        "get": _operation(
            "getUser",
            "A profile",
            "users",
            _reader("read:accounts"),
            {"200": _ok("The user.", _schema("User")), **_errors("NotFound", *TOKEN_REFUSALS)},
        ),
    },
    "/tags/{tag}": {
        "parameters": [_ref("parameters", "tag")],
        "get": _operation(
            "getTag",
            "A hashtag",
            "timelines",
            _reader("read:statuses"),
            {
                "200": _ok("The tag.", _schema("HashtagInfo")),
                **_errors("NotFound", *TOKEN_REFUSALS),
            },
            description="By any spelling; a tag no post has had yet has no posts (0), and a "
            "name that cannot be a tag is 404.",
        ),
    },
    "/tags/{tag}/follow": {
        "parameters": [_ref("parameters", "tag")],
        "post": _operation(
            "followTag",
            "Follow a hashtag",
            "timelines",
            _writer("write:follows"),
            {
                "200": _ok("Following (again, harmlessly).", _schema("HashtagInfo")),
                **_errors("Unprocessable", *RELATIONSHIP_ERRORS),
            },
            description="Its public posts come into the home timeline until unfollowed. A "
            "tag no post has had yet can be followed. 422 past the limit of followed tags "
            f"({MAX_FOLLOWED_TAGS}).",
        ),
        "delete": _operation(
            "unfollowTag",
            "Stop following a hashtag",
            "timelines",
            _writer("write:follows"),
            {
                "200": _ok("Not following (harmlessly, if it was not).", _schema("HashtagInfo")),
                **_errors(*RELATIONSHIP_ERRORS),
            },
        ),
    },
    "/tags/{tag}/posts": {
        "parameters": [_ref("parameters", "tag")],
        "get": _operation(
            "listTagPosts",
            "A hashtag's posts",
            "timelines",
            _reader("read:statuses"),
            {"200": _page("Post"), **_errors("BadRequest", "NotFound", *TOKEN_REFUSALS)},
            description="Newest published first (`sort=latest`) or trending first "
            "(`sort=top`), those the viewer may see; a tag no post has had yet is an empty "
            "page.",
            parameters=[
                *PAGING,
                {
                    "name": "sort",
                    "in": "query",
                    "description": "`latest` or `top` (docs/trending.md).",
                    "schema": {"enum": ["latest", "top"], "default": "latest"},
                },
            ],
        ),
    },
    "/users/{username}/posts": {
        "parameters": [USERNAME],
        "get": _operation(
            "listUserPosts",
            "A person's posts",
            "users",
            _reader("read:statuses"),
            {"200": _page("Post"), **_errors("BadRequest", "NotFound", *TOKEN_REFUSALS)},
            description="Newest published first; their own unpublished posts too when the "
            "viewer is the author.",
            parameters=PAGING,
        ),
    },
    "/users/{username}/followers": {
        "parameters": [USERNAME],
        "get": _operation(
            "listFollowers",
            "Who follows a person",
            "users",
            _reader("read:accounts"),
            {
                "200": _page("Relationship"),
                **_errors("BadRequest", "NotFound", *TOKEN_REFUSALS),
            },
            description="Newest relationship first.",
            parameters=PAGING,
        ),
    },
    "/users/{username}/following": {
        "parameters": [USERNAME],
        "get": _operation(
            "listFollowing",
            "Whom a person follows",
            "users",
            _reader("read:accounts"),
            {
                "200": _page("Relationship"),
                **_errors("BadRequest", "NotFound", *TOKEN_REFUSALS),
            },
            description="Newest relationship first.",
            parameters=PAGING,
        ),
    },
    "/users/{username}/follow": {
        "parameters": [USERNAME],
        "post": _operation(
            "follow",
            "Follow a person",
            "users",
            _writer("write:follows"),
            {
                "200": _ok(
                    "Following (again, harmlessly), or, for a private account, asked to.",
                    _schema("FollowState"),
                ),
                **_errors("Unprocessable", *RELATIONSHIP_ERRORS),
            },
            description="A private account is asked instead (`requested`: true, `following`: "
            "false) until its owner approves; asking again is harmless. Oneself is 422; "
            "someone who blocked the viewer, or whom they blocked, 403.",
        ),
        "delete": _operation(
            "unfollow",
            "Stop following a person",
            "users",
            _writer("write:follows"),
            {
                "200": _ok(
                    "Not following, nor asking to (harmlessly, if they were not).",
                    _schema("FollowState"),
                ),
                **_errors(*RELATIONSHIP_ERRORS),
            },
            description="Also withdraws a pending request to follow a private account.",
        ),
    },
    "/users/{username}/block": {
        "parameters": [USERNAME],
        "post": _user_action(
            "block", "Block a person", "write:blocks", ("Unprocessable",), description=BLOCKING
        ),
        "delete": _user_action("unblock", "Unblock a person", "write:blocks"),
    },
    "/users/{username}/mute": {
        "parameters": [USERNAME],
        "post": _user_action(
            "mute",
            "Mute a person",
            "write:mutes",
            BODY_ERRORS,
            description="For `duration` seconds, from a JSON body, a form, or the query when "
            "there is no body; or until unmuted.",
            parameters=[
                {
                    "name": "duration",
                    "in": "query",
                    "description": "As the body's `duration`, when there is no body.",
                    "schema": DURATION,
                }
            ],
            requestBody={
                "required": False,
                "content": {
                    "application/json": {"schema": MUTE_JSON},
                    "application/x-www-form-urlencoded": {"schema": MUTE_FORM},
                },
            },
        ),
        "delete": _user_action("unmute", "Unmute a person", "write:mutes"),
    },
    "/users/{username}/remove_follower": {
        "parameters": [USERNAME],
        "post": _user_action("removeFollower", "Remove a follower", "write:follows"),
    },
    "/notifications": {
        "get": _operation(
            "listNotifications",
            "The viewer's notifications",
            "notifications",
            _signed_in("read:notifications"),
            {"200": _page("Notification"), **USER_READ_ERRORS},
            description="Newest first.",
            parameters=PAGING,
        )
    },
    "/notifications/read": {
        "post": _operation(
            "markNotificationsRead",
            "Mark every notification read",
            "notifications",
            _writer("write:notifications"),
            {
                "200": _ok(
                    "Nothing is unread now.",
                    _object({"unread": {"const": 0, "description": "Unread notifications."}}),
                ),
                **_errors(*SENDER_ERRORS),
            },
        )
    },
    "/stream": {
        "get": _operation(
            "stream",
            "Live events",
            "notifications",
            [{"session": []}],
            {
                "200": {
                    "description": "Server-Sent Events for as long as the session lasts: "
                    '`notifications` (`{"unread": n}`) and the home timeline\'s new posts. '
                    "A comment line every 15 s of silence.",
                    "content": {"text/event-stream": {}},
                },
                **_errors("LoginRequired", "OutsideScopes"),
            },
            description="For the pages' script: a browser session only, never a token "
            "(apps stream through the Mastodon API's `/api/v1/streaming`).",
        )
    },
    "/reports": {
        "post": _operation(
            "createReport",
            "Report to the moderators",
            "reports",
            _writer("write:reports"),
            {
                "201": _ok("The report.", _schema("Report")),
                **_errors(*BODY_ERRORS, "NotFound"),
            },
            description="A post, a comment or an account. What the reporter may not see, "
            "or that does not exist, is 404; their own, 422.",
            requestBody=_json_body(REPORT_JSON, "What is reported, and why."),
        )
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": OPENAPI_VERSION,
    "info": {
        "title": "Snapline API",
        "version": metadata.version("snapline"),
        "summary": "Snapline's own JSON API: timelines, posts, comments, likes, people, "
        "notifications and reports.",
        "description": "Lists are keyset-paginated: `?cursor=&limit=` answer "
        '`{"items": [...], "next_cursor": ...}`. Errors are '
        '`{"error": {"code", "message"}}`, except a bearer token refused for itself '
        "(`TokenError`). Times are ISO 8601 in UTC. Every answer is "
        "`application/json; charset=utf-8` but the live stream's. See docs/api.md.",
    },
    "servers": [{"url": BASE_PATH, "description": "This server."}],
    "tags": [
        {"name": "timelines", "description": "Lists of posts."},
        {"name": "posts", "description": "Posts, their likes and comments."},
        {"name": "users", "description": "Profiles and relationships."},
        {"name": "search", "description": "Finding people, tags and posts."},
        {"name": "notifications", "description": "Notifications and live events."},
        {"name": "reports", "description": "Reports to the moderators."},
        {"name": "meta", "description": "About this API."},
    ],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "headers": HEADERS,
        "responses": RESPONSES,
        "securitySchemes": SECURITY_SCHEMES,
    },
}
