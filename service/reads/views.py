"""What pages, fragments and the API show: plain values built from read statements' rows.

Views are named tuples where a page builds dozens of them (a tuple is built several times
faster than a frozen dataclass), frozen dataclasses elsewhere.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

from service.cursor import Position
from service.models import MODERATING_ROLES

# Avatar sizes stored per upload: lists show 40 px (64 covers 1.5x screens), profiles 96 px.
AVATAR_SMALL = "64"
AVATAR_LARGE = "400"


def avatar_url(username: str, avatar_key: str | None = None) -> str:
    """The uploaded avatar (``avatar_key``, its stored object) when there is one, through
    ``/media/`` (a stable URL: a file for local storage, a short redirect for S3). Until
    then a generated identicon, served by us (no third party learns who looks at which
    profile)."""
    if avatar_key:
        return f"/media/{avatar_key}"
    return _identicon_url(username)


@functools.lru_cache(maxsize=4096)
def _identicon_url(username: str) -> str:
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:16]
    return f"/identicons/{digest}.svg"


@dataclasses.dataclass(frozen=True, slots=True)
class SessionUser:
    """Who is signed in, as every request sees them: what pages and permissions need, and
    nothing that is secret (no password hash)."""

    id: int
    username: str
    display_name: str
    email: str
    role: str
    is_confirmed: bool
    # Who their posts are for unless they choose otherwise (the composer's first choice).
    default_audience: str = "public"
    # A private account: followers ask first, and no post of theirs is public.
    locked: bool = False
    # The language they chose to read Snapline in (i18n.LANGUAGES), or None: their browser's.
    language: str | None = None

    @property
    def is_moderator(self) -> bool:
        return self.role in MODERATING_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclasses.dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a bearer token lets its holder do: act as ``user`` (None for an app's own
    token) within ``scopes``. ``app_id`` is None for a personal access token."""

    token_id: int
    app_id: int | None
    user: SessionUser | None
    scopes: frozenset[str]


@dataclasses.dataclass(frozen=True, slots=True)
class OAuthAppView:
    id: int
    client_id: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]


@dataclasses.dataclass(frozen=True, slots=True)
class OwnToken:
    """One of a user's tokens, as the settings pages list them: a personal access token
    (``name``) or an app's (``app_name``)."""

    id: int
    app_id: int | None
    app_name: str | None
    app_website: str | None
    name: str | None
    scopes: frozenset[str]
    created_at: datetime


class UserSummary(NamedTuple):
    id: int
    username: str
    display_name: str
    avatar_url: str

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @classmethod
    def of(
        cls, user_id: int, username: str, display_name: str, avatar_key: str | None = None
    ) -> UserSummary:
        return cls(user_id, username, display_name, avatar_url(username, avatar_key))


@dataclasses.dataclass(frozen=True)
class Profile:
    summary: UserSummary
    bio: str
    location: str
    created_at: datetime
    post_count: int
    followers_count: int
    following_count: int
    following: bool  # the viewer follows them
    follows_you: bool  # they follow the viewer
    is_viewer: bool
    blocking: bool = False  # the viewer blocked them
    muting: bool = False  # the viewer muted them, and the mute lasts
    mute_expires_at: datetime | None = None  # when it ends; None: until unmuted
    locked: bool = False  # a private account: new followers ask first
    requested: bool = False  # the viewer asked to follow them, not answered yet
    requested_by: bool = False  # they asked to follow the viewer
    indexable: bool = True  # their public posts may be found by anyone's search


@dataclasses.dataclass(frozen=True, slots=True)
class RelationshipFlags:
    """The viewer's relationship with one person, both ways."""

    id: int
    following: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    requested: bool = False  # the viewer asked to follow them, not answered yet
    requested_by: bool = False  # they asked to follow the viewer


class RenditionView(NamedTuple):
    """One width of a photo for srcset: its true size in pixels."""

    url: str
    width: int
    height: int
    content_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class MediaView:
    """A photo uploaded before its post: its URLs and size once processed (None before)."""

    id: int
    url: str | None  # the display size, longest edge 1080 px
    thumb_url: str | None  # a 320 px square
    width: int | None  # of the display size
    height: int | None
    alt: str
    failed: bool  # it could not be processed

    @property
    def ready(self) -> bool:
        return self.url is not None


class PhotoView(NamedTuple):
    url: str  # the display size, longest edge 1080 px
    thumb_url: str  # a 320 px square
    width: int  # of the display size
    height: int
    alt: str
    # Narrowest first; none until a photo processed before they existed has them made.
    renditions: tuple[RenditionView, ...] = ()
    blurhash: str | None = None
    id: int = 0


class PostView(NamedTuple):
    id: int
    author: UserSummary
    body: str
    status: str
    created_at: datetime
    published_at: datetime | None
    like_count: int
    comment_count: int
    liked: bool
    photos: tuple[PhotoView, ...] = ()
    # The id Mastodon apps see, once published (docs/api.md).
    status_id: int | None = None
    # Moderators marked its photos sensitive: shown behind a cover (docs/moderation.md).
    sensitive: bool = False
    # Who it is for: "public", "unlisted" or "followers" (docs/privacy.md).
    audience: str = "public"
    # The accounts it mentions, resolved when it was written, in order (docs/discovery.md).
    mention_names: tuple[str, ...] = ()
    mention_ids: tuple[int, ...] = ()
    # How many times it was seen (docs/trending.md): for its author alone, None otherwise.
    views: int | None = None

    @property
    def shown_at(self) -> datetime:
        return self.published_at or self.created_at

    @property
    def position(self) -> Position:
        return Position(self.shown_at, self.id)


class AuthorFacts(NamedTuple):
    """What an app is shown of a post's author beside the post (the Mastodon API's
    Account), read with the post."""

    summary: UserSummary
    bio: str
    created_at: datetime
    post_count: int
    followers_count: int
    following_count: int
    locked: bool = False
    indexable: bool = True


class StatusView(NamedTuple):
    """A post in a Mastodon API list, with its author's account."""

    post: PostView
    author: AuthorFacts


@dataclasses.dataclass(frozen=True)
class CommentView:
    id: int
    post_id: int
    post_author_id: int
    author: UserSummary
    body: str
    created_at: datetime
    # The ids Mastodon apps see the comment and its post under (docs/api.md).
    status_id: int | None = None
    post_status_id: int | None = None
    # The accounts it mentions, resolved when it was written, in order (docs/discovery.md).
    mention_names: tuple[str, ...] = ()
    mention_ids: tuple[int, ...] = ()

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclasses.dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    actor: UserSummary
    post_id: int | None
    created_at: datetime
    read: bool
    post_thumb_url: str | None  # the post's first photo, small
    excerpt: str | None  # a comment's first line (a mention's: the post's, or the comment's)
    comment_id: int | None = None

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclasses.dataclass(frozen=True, slots=True)
class NotificationEvent:
    """A notification as the Mastodon API shows it: who did what, and to which post or with
    which comment (each shown through the read layer's own statements)."""

    id: int
    kind: str
    actor_id: int
    post_id: int | None
    comment_id: int | None
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class NotificationGroup:
    """One line of the notifications page: a notification, or the likes of one post."""

    first: NotificationView  # the newest
    actors: tuple[UserSummary, ...]  # newest first, each once
    unread: bool  # any of them

    @classmethod
    def of(cls, item: NotificationView) -> NotificationGroup:
        return cls(item, (item.actor,), not item.read)

    def with_one_more(self, item: NotificationView) -> NotificationGroup:
        actors = self.actors if item.actor in self.actors else (*self.actors, item.actor)
        return NotificationGroup(self.first, actors, self.unread or not item.read)

    @property
    def others(self) -> int:
        return len(self.actors) - 1


@dataclasses.dataclass(frozen=True)
class Relationship:
    """One person in a list of follows, blocks or mutes, since when, and (mutes) until."""

    user: UserSummary
    since: datetime
    until: datetime | None = None

    @property
    def position(self) -> Position:
        return Position(self.since, self.user.id)


@dataclasses.dataclass(frozen=True)
class AccountView:
    """A user as the admin list shows them."""

    id: int
    username: str
    email: str
    role: str
    created_at: datetime
    is_confirmed: bool
    is_suspended: bool

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclasses.dataclass(frozen=True)
class ReportView:
    """A report as moderators see it: the copy of what was reported, who reported it, and
    the decision. ``post_id``, ``comment_id`` and ``account_id`` are None once those are
    gone; for a comment, ``post_id`` is the post it is under."""

    id: int
    kind: str
    category: str
    comment: str
    username: str
    body: str
    photo_keys: tuple[str, ...]
    created_at: datetime
    account_id: int | None
    post_id: int | None
    comment_id: int | None
    resolution: str | None
    resolved_at: datetime | None
    reporter: str | None  # their username; None once their account is gone
    resolver: str | None
    account_suspended: bool
    suspension_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.resolution is None

    @property
    def content_exists(self) -> bool:
        return (self.comment_id if self.kind == "comment" else self.post_id) is not None

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclasses.dataclass(frozen=True)
class WarningView:
    """A moderators' warning, as its owner reads it until they acknowledge it."""

    id: int
    message: str
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class ModerationEntry:
    """A line of the audit log. ``moderator`` is their username then, None for the
    command line."""

    id: int
    created_at: datetime
    moderator: str | None
    action: str
    username: str
    account_id: int | None
    report_id: int | None
    reason: str

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


Item = TypeVar("Item")


@dataclasses.dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None


@dataclasses.dataclass(frozen=True)
class RuleView:
    id: int
    text: str


@dataclasses.dataclass(frozen=True)
class InstanceView:
    """The instance as its admins set it: how people may sign up, what it is called, its
    contact and its rules, in order."""

    registration_mode: str
    invites_by_users: bool
    name: str
    description: str
    contact_email: str
    rules: tuple[RuleView, ...]

    @property
    def approval_required(self) -> bool:
        return self.registration_mode == "approval"

    @property
    def open_to_all(self) -> bool:
        """Anyone may ask for an account without an invite (some wait for approval)."""
        return self.registration_mode in {"open", "approval"}


@dataclasses.dataclass(frozen=True)
class ApplicationView:
    """A sign-up waiting for an admin, as the queue shows it."""

    id: int
    username: str
    email: str
    is_confirmed: bool
    reason: str
    created_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


@dataclasses.dataclass(frozen=True)
class InviteView:
    """One of a person's invites, as their settings page lists it."""

    id: int
    code: str
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    created_at: datetime
    expired: bool

    @property
    def used_up(self) -> bool:
        return self.max_uses is not None and self.uses >= self.max_uses

    @property
    def usable(self) -> bool:
        return not self.expired and not self.used_up


class TrendingTagView(NamedTuple):
    """A tag among what trends: ``uses`` of it by ``accounts`` people in the top posts."""

    name: str
    display: str
    post_count: int
    uses: int
    accounts: int


class TagView(NamedTuple):
    """A hashtag: its normalised name (its URL's), its display form, its published posts,
    and whether the viewer follows it."""

    name: str
    display: str
    post_count: int
    following: bool = False


class FollowedTag(NamedTuple):
    """A tag someone follows (``tag_id`` its row's id), and since when: together, its
    position in the list of followed tags, newest first."""

    tag: TagView
    tag_id: int
    since: datetime

    @property
    def position(self) -> Position:
        return Position(self.since, self.tag_id)
