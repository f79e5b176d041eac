"""OAuth scopes as Mastodon defines them, and which held scopes grant a required one.

A token holds a set of scopes. A top-level scope (``read``, ``write``) includes every
granular scope under it (``read`` grants ``read:statuses``); ``follow`` is Mastodon's older
name for the follow, block and mute scopes; ``profile`` grants only the account's own
identity; ``push`` is accepted for apps that ask for it, and grants nothing here (there is
no Web Push yet).
"""

from __future__ import annotations

from collections.abc import Iterable

from service.i18n import lazy_gettext

TOP_LEVEL = ("read", "write", "follow", "push", "profile")
GRANULAR = {
    "read": (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
        "mutes", "notifications", "search", "statuses",
    ),
    "write": (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
        "follows", "lists", "media", "mutes", "notifications", "reports", "statuses",
    ),
}  # fmt: skip
# What the deprecated ``follow`` scope stands for.
FOLLOW_INCLUDES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
KNOWN = frozenset(TOP_LEVEL) | {
    f"{group}:{name}" for group, names in GRANULAR.items() for name in names
}
# What an app gets when it asks for no scope (Mastodon's default).
DEFAULT = frozenset({"read"})
# A route any valid token may call, whatever it holds.
ANY_TOKEN: tuple[str, ...] = ()
# The longest scope list accepted: every known scope, with room for spaces.
MAX_SCOPE_CHARS = 1000


class UnknownScope(ValueError):
    pass


def parse(text: str | None, default: frozenset[str] = DEFAULT) -> frozenset[str]:
    """The scopes of a space-separated list (RFC 6749 §3.3); ``default`` when it is empty.
    Raises UnknownScope for a scope Snapline does not know."""
    if text is None or not text.strip():
        return default
    if len(text) > MAX_SCOPE_CHARS:
        raise UnknownScope("the scope list is too long")
    scopes = frozenset(text.split())
    unknown = sorted(scopes - KNOWN)
    if unknown:
        raise UnknownScope(f"unknown scope: {' '.join(unknown)[:200]}")
    return scopes


def text_of(scopes: Iterable[str]) -> str:
    """The canonical text of a set of scopes: sorted, top-level ones first."""
    return " ".join(sorted(scopes, key=lambda scope: (":" in scope, scope)))


def grants(held: frozenset[str], required: str) -> bool:
    """Whether a token holding ``held`` may do what needs ``required``."""
    if required in held:
        return True
    group, _, granular = required.partition(":")
    if granular and group in held:
        return True
    return "follow" in held and required in FOLLOW_INCLUDES


def grants_any(held: frozenset[str], alternatives: tuple[str, ...]) -> bool:
    """Whether ``held`` grants one of ``alternatives``; an empty tuple (ANY_TOKEN) asks for
    nothing but a valid token."""
    return not alternatives or any(grants(held, required) for required in alternatives)


def within(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether every requested scope is one the app registered (or included in one)."""
    return all(grants(allowed, scope) for scope in requested)


# Shown on the consent page and the token pages, one line per scope asked for: a whole
# sentence for each, granular ones too, so that each language words it its own way.
DESCRIPTIONS = {
    "read": lazy_gettext("Read everything your account can see: posts, people, notifications"),
    "write": lazy_gettext("Post, comment, like, follow and change your profile in your name"),
    "follow": lazy_gettext("Follow and unfollow people, and see who you follow"),
    "push": lazy_gettext("Receive push notifications"),
    "profile": lazy_gettext("See your username and display name only"),
    "read:accounts": lazy_gettext("Read your accounts"),
    "read:blocks": lazy_gettext("Read your blocks"),
    "read:bookmarks": lazy_gettext("Read your bookmarks"),
    "read:favourites": lazy_gettext("Read your favourites"),
    "read:filters": lazy_gettext("Read your filters"),
    "read:follows": lazy_gettext("Read your follows"),
    "read:lists": lazy_gettext("Read your lists"),
    "read:mutes": lazy_gettext("Read your mutes"),
    "read:notifications": lazy_gettext("Read your notifications"),
    "read:search": lazy_gettext("Read your search"),
    "read:statuses": lazy_gettext("Read your statuses"),
    "write:accounts": lazy_gettext("Change your accounts"),
    "write:blocks": lazy_gettext("Change your blocks"),
    "write:bookmarks": lazy_gettext("Change your bookmarks"),
    "write:conversations": lazy_gettext("Change your conversations"),
    "write:favourites": lazy_gettext("Change your favourites"),
    "write:filters": lazy_gettext("Change your filters"),
    "write:follows": lazy_gettext("Change your follows"),
    "write:lists": lazy_gettext("Change your lists"),
    "write:media": lazy_gettext("Change your media"),
    "write:mutes": lazy_gettext("Change your mutes"),
    "write:notifications": lazy_gettext("Change your notifications"),
    "write:reports": lazy_gettext("Change your reports"),
    "write:statuses": lazy_gettext("Change your statuses"),
}
assert set(DESCRIPTIONS) == KNOWN, "every scope is described"


def describe(scope: str) -> str:
    return str(DESCRIPTIONS[scope])
