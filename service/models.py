"""The database schema as SQLAlchemy models. Migrations under migrations/ own the real schema;
these classes must describe the same tables (a test compares them)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    FetchedValue,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("user", "moderator", "admin")
# Roles that may delete anyone's posts and comments.
MODERATING_ROLES = frozenset({"moderator", "admin"})
TOKEN_PURPOSES = ("confirm", "reset")
# How people may sign up (docs/moderation.md): anyone; anyone, once an admin approves;
# with an invite only; nobody.
REGISTRATION_MODES = ("open", "approval", "invite", "closed")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now_column(nullable: bool = False) -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=nullable)


# Who a post is for (Post.audience, User.default_audience): everyone; everyone, but not
# listed on explore or the public timelines; the author's followers only.
AUDIENCES = ("public", "unlisted", "followers")

# The users table's username rule (its check constraint), for checks before a statement.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{3,30}")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(String(50), server_default="")
    location: Mapped[str] = mapped_column(String(60), server_default="")
    bio: Mapped[str] = mapped_column(String(300), server_default="")
    role: Mapped[str] = mapped_column(String(16), server_default="user")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by an admin: the account cannot log in and is seen by nobody (reads/visibility.py).
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why, as the moderator wrote it for the account's owner: shown when they try to log in.
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the owner asked to delete the account: when its removal job runs. Until
    # then the account is hidden as a suspended one is, and logging in cancels it.
    deletion_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    # Kept in step with the rows they count, in the same transaction as each change.
    post_count: Mapped[int] = mapped_column(Integer, server_default="0")
    followers_count: Mapped[int] = mapped_column(Integer, server_default="0")
    following_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # The username and display name as people search compares them (migration 0020).
    search_name: Mapped[str] = mapped_column(
        Text, Computed("search_form(((username)::text || ' '::text) || (display_name)::text)")
    )
    # Who the posts they write are for unless they choose otherwise (Post.audience).
    default_audience: Mapped[str] = mapped_column(Text, server_default="public")
    # A private account: each new follower asks first and the owner approves (FollowRequest).
    locked: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # The language they read Snapline in, a tag of i18n.LANGUAGES; None: their browser's.
    language: Mapped[str | None] = mapped_column(Text)
    # Whether their public posts appear in the post search of people who do not follow them
    # (Mastodon's ``indexable``).
    indexable: Mapped[bool] = mapped_column(Boolean, server_default="true")

    __table_args__ = (
        CheckConstraint("role IN ('user', 'moderator', 'admin')", name="role"),
        CheckConstraint(
            "default_audience IN ('public', 'unlisted', 'followers')", name="default_audience"
        ),
        # A private account's posts are never public unless asked (migration 0023).
        CheckConstraint(
            "NOT (locked AND default_audience = 'public')", name="private_default_audience"
        ),
        CheckConstraint("char_length(language) <= 35", name="language_tag"),
        CheckConstraint("username ~ '^[A-Za-z0-9_]{3,30}$'", name="username_format"),
        CheckConstraint("char_length(suspension_reason) <= 1000", name="suspension_reason_length"),
        # Usernames and emails are unique regardless of case: "Ann" and "ann" are one person.
        Index("uq_users_username_lower", func.lower(text("username")), unique=True),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        # The accounts hidden from everyone (reads/visibility.py): suspended or leaving.
        Index(
            "ix_users_hidden",
            "id",
            postgresql_where=text("suspended_at IS NOT NULL OR deletion_due_at IS NOT NULL"),
        ),
        # The about page's admins, without reading every account.
        Index("ix_users_admins", "id", postgresql_where=text("role = 'admin'")),
        # Post search reads the few accounts whose posts are not to be found.
        Index("ix_users_not_indexable", "id", postgresql_where=text("NOT indexable")),
        # People search (service/reads/people.py): prefixes, words and near misses.
        Index(
            "ix_users_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class AuthSession(Base):
    """A signed-in browser. The cookie carries a random id; only its SHA-256 is stored, so a
    database leak does not hand out live sessions. Deleting the row logs the browser out."""

    __tablename__ = "auth_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmailToken(Base):
    """Single-use links sent by email. Only the hash of the token is stored."""

    __tablename__ = "email_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("purpose IN ('confirm', 'reset')", name="purpose"),)


# What the instance is until an admin says otherwise (no row in instance_settings yet).
DEFAULT_REGISTRATION_MODE = "open"
DEFAULT_INSTANCE_NAME = "Snapline"
DEFAULT_INSTANCE_DESCRIPTION = "Photos and posts from the people you follow."
MAX_INSTANCE_NAME_CHARS = 60
MAX_INSTANCE_DESCRIPTION_CHARS = 1000
MAX_RULE_CHARS = 500
MAX_APPLICATION_REASON_CHARS = 1000


class InstanceSettings(Base):
    """What an admin sets for the whole instance, in its one row (id 1), written when an
    admin first saves (the DEFAULT_* constants apply until then): read on each request that
    needs it, so a change shows at once everywhere."""

    __tablename__ = "instance_settings"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    registration_mode: Mapped[str] = mapped_column(String(16), server_default="open")
    # Whether people who are not admins may invite others.
    invites_by_users: Mapped[bool] = mapped_column(Boolean, server_default="false")
    name: Mapped[str] = mapped_column(String(60), server_default="Snapline")
    description: Mapped[str] = mapped_column(Text, server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), server_default="")
    updated_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(
            "registration_mode IN ('open', 'approval', 'invite', 'closed')",
            name="registration_mode",
        ),
        CheckConstraint("char_length(name) BETWEEN 1 AND 60", name="name_length"),
        CheckConstraint("char_length(description) <= 1000", name="description_length"),
    )


class InstanceRule(Base):
    """One of the instance's rules, shown in ``position`` order on /about and the sign-up
    page, where a newcomer accepts them."""

    __tablename__ = "instance_rules"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (CheckConstraint("char_length(text) BETWEEN 1 AND 500", name="text_length"),)


class AccountApplication(Base):
    """A sign-up waiting for an admin (registration mode "approval"): while the row lasts
    the account cannot log in and nobody sees it (service/reads/visibility.py). Approval
    deletes the row; rejection deletes the account with it."""

    __tablename__ = "account_applications"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint("char_length(reason) BETWEEN 1 AND 1000", name="reason_length"),
        Index("ix_account_applications_created", "created_at", "user_id"),
    )


class Invite(Base):
    """An invite link (``/invite/<code>``): good for ``max_uses`` sign-ups (any number when
    NULL) until ``expires_at`` (for ever when NULL), while its creator may still invite.
    The code is kept as it is, not hashed: its creator's settings page shows it again, and
    it opens nothing but the sign-up form."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, server_default="0")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses"),
        Index("ix_invites_creator_recent", "creator_id", text("created_at DESC")),
    )


class Claimable:
    """The columns of a queue the polling worker claims (service/workers/polling.py), beside
    each table's own: when a row is due and how often it was tried, the worker that claimed
    it last (each process's worker holds an advisory lock on its id while it lives) and
    until when the claim holds even if that cannot be seen, and how it failed."""

    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = _now_column()
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMail(Claimable, Base):
    """A message waiting for delivery. Written in the request's transaction, so a request
    that succeeded always has its mail; sent by the mail worker with retries."""

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_outbox_mail_pending",
            "next_attempt_at",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )


class RateLimitCounter(Base):
    """Fixed-window hit counters, shared by every process through the database."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(300))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hits: Mapped[int] = mapped_column(Integer, server_default="1")

    __table_args__ = (PrimaryKeyConstraint("bucket", "window_start"),)


class OAuthApp(Base):
    """An app registered through POST /api/v1/apps (RFC 6749 §2): anyone may register one.
    Only the SHA-256 of its client secret is kept."""

    __tablename__ = "oauth_apps"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(2000))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()


class AccessToken(Base):
    """A bearer token: an app's for a user (the code flow), an app's own (client
    credentials, no user), or a user's personal access token (no app, a name). Only its
    SHA-256 is kept; deleting the row revokes it, and a trigger tells every process."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    app_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (CheckConstraint("app_id IS NOT NULL OR user_id IS NOT NULL", name="owner"),)


class OAuthCode(Base):
    """An authorization code (RFC 6749 §4.1), stored hashed, good for one exchange within
    minutes. A used code is kept until it expires, with the token it gave, so that a second
    use can revoke that token (§4.1.2)."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # As the authorization request gave it; NULL when it named none (one registered URI).
    redirect_uri: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    # RFC 7636, S256 only.
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("access_tokens.id", ondelete="SET NULL"), index=True
    )


POST_STATUSES = ("processing", "published", "failed")
MAX_POST_BODY_CHARS = 2000


class Follow(Base):
    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    followed_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        PrimaryKeyConstraint("follower_id", "followed_id"),
        CheckConstraint("follower_id <> followed_id", name="not_self"),
        # "Following" lists, newest first (the primary key serves the timeline's lookups).
        Index("ix_follows_follower_recent", "follower_id", text("created_at DESC"), "followed_id"),
        # "Followers" lists, newest first, and follower counts.
        Index("ix_follows_followed_recent", "followed_id", text("created_at DESC"), "follower_id"),
    )


class FollowRequest(Base):
    """A request to follow a private account, until its owner approves (it becomes a Follow)
    or rejects it, or the requester withdraws it."""

    __tablename__ = "follow_requests"

    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        PrimaryKeyConstraint("requester_id", "target_id"),
        CheckConstraint("requester_id <> target_id", name="not_self"),
        # The owner's list, newest first.
        Index(
            "ix_follow_requests_target_recent", "target_id", text("created_at DESC"), "requester_id"
        ),
    )


class Block(Base):
    """The blocker sees nothing of the blocked person, nor they of the blocker
    (service/reads/visibility.py); neither may follow the other."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        # Whom the viewer blocked (the rule's first set).
        PrimaryKeyConstraint("blocker_id", "blocked_id"),
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        # Who blocked the viewer (the rule's second set).
        Index("ix_blocks_blocked_id", "blocked_id", "blocker_id"),
        # The blocker's list, newest first.
        Index("ix_blocks_blocker_recent", "blocker_id", text("created_at DESC"), "blocked_id"),
    )


class Mute(Base):
    """The muter sees no posts, comments or notifications of the muted person until
    ``expires_at`` (never, when NULL); the muted person notices nothing."""

    __tablename__ = "mutes"

    muter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    muted_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        PrimaryKeyConstraint("muter_id", "muted_id"),
        CheckConstraint("muter_id <> muted_id", name="not_self"),
        # The muter's list, newest first; with the end, so that the rule reads a viewer's
        # mutes from the index alone.
        Index(
            "ix_mutes_muter_recent",
            "muter_id",
            text("created_at DESC"),
            "muted_id",
            postgresql_include=["expires_at"],
        ),
        # A deleted account's mutes of it go by the foreign key's cascade.
        Index("ix_mutes_muted_id", "muted_id"),
    )


class Post(Base):
    """A post is visible to others once published: ``published_at`` is set exactly then
    (at creation for a text post, when its last photo is ready for a photo post), and the
    timeline is ordered by it, so a post that finishes late appears at the top."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(16), server_default="published")
    created_at: Mapped[datetime] = _now_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    like_count: Mapped[int] = mapped_column(Integer, server_default="0")
    comment_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # The id Mastodon apps see, set by a trigger when the post is published: ordered as the
    # timelines are (docs/api.md, migration 0009).
    status_id: Mapped[int | None] = mapped_column(BigInteger)
    # A moderator's decision: its photos are shown behind a cover a viewer opens.
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Set by a trigger when a photo joins the post (migration 0019): the grid's index.
    has_photos: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Who may see it (reads/visibility.py): everyone; everyone but not on explore or the
    # public timelines; or only the author's followers.
    audience: Mapped[str] = mapped_column(Text, server_default="public")
    # The accounts it mentions, resolved when written (post_mentions), in order of
    # appearance: what a card links without another read (docs/discovery.md).
    mention_names: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    mention_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=text("'{}'::bigint[]")
    )
    # Its text as post search matches it (migration 0028, docs/discovery.md).
    search_vector: Mapped[str] = mapped_column(TSVECTOR, Computed("post_search_document(body, id)"))
    # Views counted in memory and added by each process's flush (docs/trending.md).
    view_count: Mapped[int] = mapped_column(BigInteger, server_default="0")

    __table_args__ = (
        CheckConstraint("audience IN ('public', 'unlisted', 'followers')", name="audience"),
        CheckConstraint("status IN ('processing', 'published', 'failed')", name="status"),
        CheckConstraint("char_length(body) <= 2000", name="body_length"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published"),
        # Every timeline shape walks one author's newest posts from here, reading the
        # index alone: it carries the audience the rule asks (migration 0021).
        Index(
            "ix_posts_author_published",
            "author_id",
            text("published_at DESC"),
            text("id DESC"),
            postgresql_where=text("published_at IS NOT NULL"),
            postgresql_include=["audience"],
        ),
        # Explore, and the "newest posts overall" walk of the home timeline.
        Index(
            "ix_posts_published",
            text("published_at DESC"),
            text("id DESC"),
            postgresql_where=text("published_at IS NOT NULL"),
        ),
        # An author's own unpublished posts (processing or failed), shown only to them.
        Index(
            "ix_posts_author_unpublished",
            "author_id",
            "created_at",
            postgresql_where=text("published_at IS NULL"),
        ),
        Index("uq_posts_status_id", "status_id", unique=True),
        # The Mastodon API's lists of one author's statuses, and its home timeline.
        Index(
            "ix_posts_author_status",
            "author_id",
            text("status_id DESC"),
            postgresql_where=text("status_id IS NOT NULL"),
        ),
        # A profile's grid, and the Mastodon API's `only_media`: one author's photo posts.
        Index(
            "ix_posts_author_photos",
            "author_id",
            text("status_id DESC"),
            postgresql_where=text("status_id IS NOT NULL AND has_photos"),
        ),
        # Post search (service/reads/search.py).
        Index("ix_posts_search_vector", "search_vector", postgresql_using="gin"),
    )


MAX_COMMENT_BODY_CHARS = 1000
NOTIFICATION_KINDS = ("follow", "like", "comment", "follow_request", "follow_accepted", "mention")


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    # The id Mastodon apps see it under, set by a trigger (docs/api.md, migration 0009).
    status_id: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    # As on posts: the accounts it mentions (comment_mentions), for linking them.
    mention_names: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    mention_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=text("'{}'::bigint[]")
    )

    __table_args__ = (
        CheckConstraint("char_length(body) BETWEEN 1 AND 1000", name="body_length"),
        # A post's comments, oldest first, keyset-paginated.
        Index("ix_comments_post_created", "post_id", "created_at", "id"),
        Index("ix_comments_author_id", "author_id"),
        Index("uq_comments_status_id", "status_id", unique=True),
    )


class Tag(Base):
    """A hashtag by its normalised name (service.discovery.normalize_tag), shown as first
    written; ``post_count`` counts its published posts (a trigger on post_tags)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    display: Mapped[str] = mapped_column(Text)
    post_count: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        CheckConstraint("char_length(display) BETWEEN 1 AND 100", name="display_length"),
    )


# Tag search: names by prefix, whatever their accents (service/reads/search.py).
Index(
    "ix_tags_search_name",
    func.search_fold(Tag.name).label("folded"),
    postgresql_ops={"folded": "text_pattern_ops"},
)


class PostTag(Base):
    """A post's tag, with the post's status id once published, and its publication time,
    author and audience (filled and kept by triggers, migration 0027): a tag's page walks
    ix_post_tags_tag_status, newest first, and the home timeline's walk of a followed tag
    applies the visibility rule to the index entries alone."""

    __tablename__ = "post_tags"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    status_id: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[int] = mapped_column(BigInteger)
    audience: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        PrimaryKeyConstraint("post_id", "tag_id"),
        Index(
            "ix_post_tags_tag_status",
            "tag_id",
            text("status_id DESC"),
            postgresql_include=["post_id", "published_at", "author_id", "audience"],
            postgresql_where=text("status_id IS NOT NULL"),
        ),
    )


class TagFollow(Base):
    """A hashtag someone follows: its public posts come into their home timeline
    (service.reads.posts.home_rows)."""

    __tablename__ = "tag_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "tag_id"),
        # Settings and the Mastodon API list them newest first.
        Index("ix_tag_follows_user_recent", "user_id", text("created_at DESC"), "tag_id"),
        Index("ix_tag_follows_tag_id", "tag_id"),
    )


class TrendChange(Base):
    """A post whose likes, comments or views changed since the trending job last ran (a
    trigger on posts writes it; the job takes it)."""

    __tablename__ = "trend_changes"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )


TREND_FACTS = ("has_photos", "published_at", "audience", "author_id", "author_since")


class PostTrend(Base):
    """An engaged post's place in trending, as a time (docs/trending.md): the later
    ``rank_at``, the higher. ``removed_at``: a moderator took it off trends."""

    __tablename__ = "post_trends"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    rank_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The post's and its author's, copied with its rank (kept so by triggers): the trending
    # walk applies the rule to the entries of ix_post_trends_rank (or, for the front page's
    # grid, ix_post_trends_photos), which include them.
    has_photos: Mapped[bool] = mapped_column(Boolean, server_default="false")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audience: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        Index(
            "ix_post_trends_rank",
            text("rank_at DESC"),
            text("post_id DESC"),
            postgresql_include=list(TREND_FACTS),
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index(
            "ix_post_trends_photos",
            text("rank_at DESC"),
            text("post_id DESC"),
            postgresql_include=list(TREND_FACTS),
            postgresql_where=text("removed_at IS NULL AND has_photos"),
        ),
    )


class PostMention(Base):
    __tablename__ = "post_mentions"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    __table_args__ = (PrimaryKeyConstraint("post_id", "user_id"),)


class CommentMention(Base):
    __tablename__ = "comment_mentions"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    __table_args__ = (PrimaryKeyConstraint("comment_id", "user_id"),)


class Like(Base):
    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        # Serves "did the viewer like these posts" (post_id = ANY(...) AND user_id = viewer).
        PrimaryKeyConstraint("post_id", "user_id"),
        Index("ix_likes_user_id", "user_id"),
    )


class Notification(Base):
    """'X followed you', 'X liked your post', 'X commented on your post', 'X requested to follow
    you', 'X accepted your follow request'. Undoing the action
    (unfollow, unlike, deleting the comment) deletes the notification with it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _now_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "kind IN ('follow', 'like', 'comment', 'follow_request', 'follow_accepted', 'mention')",
            name="kind",
        ),
        CheckConstraint("user_id <> actor_id", name="not_self"),
        Index("ix_notifications_user_recent", "user_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
        # At most one "followed you" per pair and one "liked your post" per post and person,
        # whatever the concurrency.
        Index(
            "uq_notifications_follow",
            "user_id",
            "actor_id",
            unique=True,
            postgresql_where=text("kind = 'follow'"),
        ),
        Index(
            "uq_notifications_follow_request",
            "user_id",
            "actor_id",
            unique=True,
            postgresql_where=text("kind = 'follow_request'"),
        ),
        Index(
            "uq_notifications_like",
            "user_id",
            "actor_id",
            "post_id",
            unique=True,
            postgresql_where=text("kind = 'like'"),
        ),
        # One "mentioned you" per person, post and comment (NULL for the post itself).
        Index(
            "uq_notifications_mention",
            "user_id",
            "post_id",
            text("coalesce(comment_id, 0)"),
            unique=True,
            postgresql_where=text("kind = 'mention'"),
        ),
        Index("ix_notifications_actor_id", "actor_id"),
        Index("ix_notifications_post_id", "post_id"),
        Index("ix_notifications_comment_id", "comment_id"),
    )


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` a user sent with a new status, and the status it made (a post
    or a comment). Within IDEMPOTENCY_WINDOW the same key answers that status again; the row
    goes with its status, and housekeeping removes rows past the window."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )


MEDIA_JOB_KINDS = ("photo", "avatar", "delete")
MAX_ALT_CHARS = 1500


class Photo(Base):
    """One photo of a post, or an upload not attached to one yet (``post_id`` NULL: the
    Mastodon API's media, attached by its owner's next status or removed after a day). Its
    renditions live in object storage under ``key_prefix``, a random name: not guessable,
    and never derived from anything the uploader sent."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # Who uploaded it: the only one who may see it unattached, change it or attach it.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    alt: Mapped[str] = mapped_column(Text, server_default="")
    key_prefix: Mapped[str] = mapped_column(String(80), unique=True)
    # Set together when the renditions are stored.
    extension: Mapped[str | None] = mapped_column(String(8))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An unattached upload that could not be processed (a post's photo fails its post).
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()
    # The widths stored for srcset, ``[{"width", "height", "format"}, ...]`` narrowest first,
    # each the object ``w<width>.<format>``; NULL for a photo processed before there were
    # any, until ``admin media renditions`` has made them.
    renditions: Mapped[list | None] = mapped_column(JSONB(none_as_null=True))
    # A BlurHash of the photo, shown blurred while it loads.
    blurhash: Mapped[str | None] = mapped_column(String(100))
    # Only its post's audience may see it: served only by signed, short-lived URLs, its
    # objects under the ``restricted/`` kind of key once a ``move`` job has put them there
    # (docs/media.md, "Restricted photos").
    restricted: Mapped[bool] = mapped_column(Boolean, server_default="false")

    __table_args__ = (
        UniqueConstraint("post_id", "position", name="uq_photos_post_position"),
        CheckConstraint("position BETWEEN 0 AND 3", name="position"),
        CheckConstraint("char_length(alt) <= 1500", name="alt_length"),
        Index("ix_photos_unattached", "created_at", postgresql_where=text("post_id IS NULL")),
    )


class Avatar(Base):
    """A user's uploaded avatar: the one shown (``key_prefix``) and the latest upload still
    being processed (``pending_prefix``), so an older upload finishing late never wins."""

    __tablename__ = "avatars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key_prefix: Mapped[str | None] = mapped_column(String(80))
    extension: Mapped[str | None] = mapped_column(String(8))
    pending_prefix: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = _now_column()


class MediaJob(Claimable, Base):
    """Durable media work: process a photo or avatar, make the renditions of a photo processed
    before they existed, or delete stored objects. Written in the transaction of the change
    that needs it; claimed by a worker in any process with FOR UPDATE SKIP LOCKED and a lease.
    Jobs reference their target by id without a foreign key, so a job outlives a deleted post
    and cleans up what it may have stored."""

    __tablename__ = "media_jobs"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    photo_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    key_prefix: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = _now_column()
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('photo', 'avatar', 'delete', 'renditions', 'move')", name="kind"),
        Index(
            "ix_media_jobs_pending",
            "next_attempt_at",
            postgresql_where=text("done_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_media_jobs_done_at", "done_at", postgresql_where=text("done_at IS NOT NULL")),
    )


class MediaOriginal(Base):
    """An uploaded file until its job has processed it, in chunks. Kept in PostgreSQL so that
    any process on any host can resume the job; deleted with the job's completion."""

    __tablename__ = "media_originals"

    job_id: Mapped[int] = mapped_column(ForeignKey("media_jobs.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (PrimaryKeyConstraint("job_id", "part"),)


REPORT_KINDS = ("post", "comment", "account")
REPORT_CATEGORIES = ("spam", "harassment", "illegal", "sensitive", "other")
REPORT_RESOLUTIONS = (
    "dismissed", "content_deleted", "account_suspended", "media_marked_sensitive", "warned",
)  # fmt: skip
MODERATION_ACTIONS = (
    "dismiss", "delete_content", "suspend", "unsuspend", "reopen",
    "mark_sensitive", "unmark_sensitive", "warn",
)  # fmt: skip
# A reporter's comment, a suspension's reason, a decision's note: a few paragraphs at most.
MAX_MODERATION_TEXT_CHARS = 1000


def _set_null(table: str, index: bool = True) -> Mapped[int | None]:
    return mapped_column(ForeignKey(f"{table}.id", ondelete="SET NULL"), index=index)


class Report(Base):
    """Someone's report of a post, a comment or an account, with a copy of what it showed
    then (``username``, ``body``, ``photo_keys``): a later edit or deletion takes no evidence
    away. Open while ``resolution`` is NULL; links to what is gone are NULL."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reporter_id: Mapped[int | None] = _set_null("users", index=False)
    kind: Mapped[str] = mapped_column(String(16))
    # The account reported, or the author of the post or comment.
    account_id: Mapped[int | None] = _set_null("users")
    post_id: Mapped[int | None] = _set_null("posts")
    comment_id: Mapped[int | None] = _set_null("comments")
    category: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, server_default="")
    username: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text, server_default="")
    photo_keys: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    created_at: Mapped[datetime] = _now_column()
    resolution: Mapped[str | None] = mapped_column(String(24))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = _set_null("users")

    __table_args__ = (
        CheckConstraint("kind IN ('post', 'comment', 'account')", name="kind"),
        CheckConstraint(
            "category IN ('spam', 'harassment', 'illegal', 'sensitive', 'other')",
            name="category",
        ),
        CheckConstraint("char_length(comment) <= 1000", name="comment_length"),
        CheckConstraint(
            "resolution IN ('dismissed', 'content_deleted', 'account_suspended',"
            " 'media_marked_sensitive', 'warned')",
            name="resolution",
        ),
        CheckConstraint("(resolution IS NULL) = (resolved_at IS NULL)", name="resolved"),
        # The queue, oldest first, and the count moderators see: the open few alone.
        Index("ix_reports_open", "created_at", "id", postgresql_where=text("resolution IS NULL")),
        # A reporter's own reports, newest first.
        Index(
            "ix_reports_reporter_recent", "reporter_id", text("created_at DESC"), text("id DESC")
        ),
    )


class RetiredUsername(Base):
    """The name of a deleted account: nobody may take it again (a trigger on ``users``
    refuses it), so nobody can pass for the person who left."""

    __tablename__ = "retired_usernames"

    username_lower: Mapped[str] = mapped_column(String(30), primary_key=True)
    retired_at: Mapped[datetime] = _now_column()


class Export(Base):
    """An archive of an account asked for by its owner: built by an account job, stored
    under ``key_prefix``, downloadable by its owner until ``expires_at``, then removed from
    storage by housekeeping (``removed_at``); the row stays so the link answers 410."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_prefix: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = _now_column()
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_exports_user_id", "user_id", text("created_at DESC")),
        Index(
            "uq_exports_pending",
            "user_id",
            unique=True,
            postgresql_where=text("ready_at IS NULL AND failed_at IS NULL"),
        ),
        Index(
            "ix_exports_expiring",
            "expires_at",
            postgresql_where=text("removed_at IS NULL AND expires_at IS NOT NULL"),
        ),
    )


class ModerationAction(Base):
    """The audit log: one row per moderator decision (or command-line suspension, with no
    moderator), never changed afterwards. ``username`` is the account's name then."""

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    moderator_id: Mapped[int | None] = _set_null("users")
    # Their name then, kept when their account goes; NULL for the command line.
    moderator_username: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(24))
    report_id: Mapped[int | None] = _set_null("reports")
    account_id: Mapped[int | None] = _set_null("users")
    username: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = _now_column()

    __table_args__ = (
        CheckConstraint(
            "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen',"
            " 'mark_sensitive', 'unmark_sensitive', 'warn', 'remove_from_trends',"
            " 'restore_to_trends')",
            name="action",
        ),
        CheckConstraint("char_length(reason) <= 1000", name="reason_length"),
        Index("ix_moderation_actions_recent", text("created_at DESC"), text("id DESC")),
    )


class AccountWarning(Base):
    """A moderator's warning to an account's owner, shown to them on every page until they
    acknowledge it (``acknowledged_at``); kept afterwards, as the record of it."""

    __tablename__ = "account_warnings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = _set_null("reports")
    moderator_id: Mapped[int | None] = _set_null("users")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("char_length(message) BETWEEN 1 AND 1000", name="message_length"),
        # What a page asks on every view of a signed-in person: the few not acknowledged.
        Index(
            "ix_account_warnings_unacknowledged",
            "user_id",
            "created_at",
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
    )


ACCOUNT_JOB_KINDS = ("export", "removal")


class AccountJob(Claimable, Base):
    """Durable work on a whole account, on the polling worker as media jobs are: build an
    archive, or delete the account once its grace period is over (``next_attempt_at`` is
    then the end of the grace period). A removal job has no foreign key to its account: it
    deletes that account, and its own row with it."""

    __tablename__ = "account_jobs"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    export_id: Mapped[int | None] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _now_column()
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('export', 'removal')", name="kind"),
        Index(
            "ix_account_jobs_pending",
            "next_attempt_at",
            postgresql_where=text("done_at IS NULL AND failed_at IS NULL"),
        ),
    )
