"""Post cards: the markup of a post in every list and on its own page.

Written here rather than as a Jinja macro because a feed shows twenty of them, and Jinja
spends most of a card's time on its own machinery: an escape call and a new Markup object
for every value, a context lookup for every attribute. Rendered here, a page of cards costs
under half as much, which was most of the gap between the home page and the JSON timeline
(bench/results/README.md).

The rule that keeps this safe: every string that comes from a user or from storage goes
through ``escape`` (the standard library's, which escapes quotes too and returns a plain
string rather than a new Markup object); the only other values are integers and fixed
text. Every element holding a user's text has ``dir="auto"``: it takes its direction from
that text and isolates it, so a right-to-left override in a post never reorders what the
page shows after it (the same in the templates). This is the only place a post card is
written: pages, and the fragments their script fetches for "load more", new posts and a
like in place, all come from here (docs/rendering.md); so are the tiles of a profile's grid.
Photos are drawn by service/web/photos.py, under the same rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import NamedTuple
from urllib.parse import quote

from babel.numbers import format_compact_decimal
from markupsafe import Markup

from service import discovery, i18n
from service.i18n import gettext as _
from service.i18n import ngettext
from service.reads.views import PostView, SessionUser
from service.web.icons import icon_svg
from service.web.photos import post_photos, tile_cover, tile_photo
from service.web.times import time_element
from service.web.urls import RouteUrls

# A tile whose photo has no alt text is named after the start of its post's text.
TILE_NAME_CHARS = 80
# Counts below this are shown as they are ("9999"); from it on, in the language's compact
# form ("12.3K", "1.2万").
COMPACT_FROM = 10_000


def compact(count: int) -> str:
    """A count as a card shows it, in the language in use: its digits below COMPACT_FROM,
    else the language's compact form, to one decimal ("12.3K", "1.2万")."""
    if count < COMPACT_FROM:
        return str(count)
    return _compact(count, i18n.current())


@functools.lru_cache(maxsize=1024)
def _compact(count: int, language: str) -> str:
    return format_compact_decimal(count, locale=i18n.locale(language), fraction_digits=1)


class _Words(NamedTuple):
    """A card's fixed text in one language, translated once per language (a page of cards
    would otherwise look each one up twenty times)."""

    badges: dict[str, str]
    audiences: dict[str, str]

    @classmethod
    def of(cls, language: str) -> _Words:
        with i18n.using(language):
            badges = {
                "processing": '  <p class="badge badge-processing">'
                + _("Processing photos&hellip; only you can see this post for now.")
                + "</p>\n",
                "failed": '  <p class="badge badge-failed">'
                + _("Processing failed. Delete this post and try again.")
                + "</p>\n",
            }
            # The mark a card shows for a post not everyone sees everywhere
            # (docs/privacy.md).
            audiences = {
                "unlisted": '    <span class="post-audience">' + _("Unlisted") + "</span>\n",
                "followers": '    <span class="post-audience">' + _("Followers only") + "</span>\n",
            }
        return cls(badges, audiences)


@functools.cache
def _words(language: str) -> _Words:
    return _Words.of(language)


class _Path(NamedTuple):
    """A route whose path has one part, as the text before and after it: joining three
    strings costs a card a third of what ``str.format`` did (web.urls.RouteUrls.template)."""

    before: str
    after: str

    @classmethod
    def of(cls, urls: RouteUrls, name: str) -> _Path:
        template = urls.template(name)
        if template.count("{") != 1:
            raise ValueError(f"{name}: a card links to routes with one part, not {template}")
        before, _, rest = template.partition("{")
        return cls(before, rest.partition("}")[2])

    def to(self, part: object) -> str:
        return f"{self.before}{part}{self.after}"


class _Paths(NamedTuple):
    """The routes a card links to, and the icons' sprite."""

    post: _Path
    profile: _Path
    like: _Path
    unlike: _Path
    delete: _Path
    report: _Path
    tag: _Path
    sprite: str

    @classmethod
    def of(cls, urls: RouteUrls) -> _Paths:
        names = ("post", "profile", "like", "unlike", "delete_post", "report_post", "tag")
        return cls(*(_Path.of(urls, name) for name in names), urls.static("icons.svg"))


@functools.lru_cache(maxsize=4096)
def _tag_path(before: str, name: str, after: str) -> str:
    return f"{before}{quote(name, safe='')}{after}"


def linked_text(
    urls: RouteUrls | _Paths, text: str, mention_names: tuple[str, ...] | list[str]
) -> str:
    """User text escaped, its hashtags linked to their pages and its mentions of the
    accounts in ``mention_names`` (resolved when it was written) to their profiles; the
    one way posts and comments show their text (docs/discovery.md)."""
    if "#" not in text and "@" not in text and "\uff03" not in text:
        return escape(text)  # most posts: nothing to link, nothing to set up
    paths = urls if isinstance(urls, _Paths) else _Paths.of(urls)
    return _linked(paths.tag, paths.profile, text, tuple(mention_names))


# A text is read far more often than written, and what it shows depends on the text, its
# mentions and the routes alone: each is linked once while it is read
# (discovery.READ_TEXTS_KEPT), as its links are found once.
@functools.lru_cache(maxsize=discovery.READ_TEXTS_KEPT)
def _linked(tag_path: _Path, profile_path: _Path, text: str, mention_names: tuple[str, ...]) -> str:
    known = {name.lower(): name for name in mention_names}

    def tag(written: str, name: str) -> str:
        href = _tag_path(tag_path.before, name, tag_path.after)
        return f'<a class="hashtag" href="{href}">{written}</a>'

    def mention(written: str, username: str) -> str:
        return f'<a class="mention" href="{profile_path.to(username)}">{written}</a>'

    return discovery.linkify(text, known, tag, mention)


def comment_text(urls: RouteUrls, text: str, mention_names: tuple[str, ...]) -> Markup:
    """A comment's text as the comment partial shows it, linked as a post's is."""
    return Markup(linked_text(urls, text, mention_names))


def _like_form(paths: _Paths, post_id: int, liked: bool, like_count: int, token: str) -> str:
    action, pressed, heart = (
        (paths.unlike, "true", "heart-filled") if liked else (paths.like, "false", "heart")
    )
    return (
        f'    <form method="post" action="{action.to(post_id)}"'
        ' class="inline-form like-form">\n'
        f'      <input type="hidden" name="csrf_token" value="{token}">\n'
        f'      <button type="submit" class="like-button" aria-pressed="{pressed}"'
        f' data-post-id="{post_id}">{icon_svg(paths.sprite, heart)}'
        f"{_like_button_count(like_count)}</button>\n"
        "    </form>\n"
    )


def _like_button_count(count: int) -> str:
    """The count and its word on a like button, each in its own element (the page's style
    and script find them there)."""
    return ngettext(
        '%(count)s <span class="like-label">like</span>',
        '%(count)s <span class="like-label">likes</span>',
        count,
    ) % {"count": f'<span class="like-count">{compact(count)}</span>'}


def like_form(
    urls: RouteUrls, post_id: int, liked: bool, like_count: int, csrf_token: str
) -> Markup:
    """A post's like button as its card shows it, for the fragment that replaces it when
    the viewer likes or unlikes in place."""
    paths = _Paths.of(urls)
    return Markup(_like_form(paths, int(post_id), liked, int(like_count), escape(csrf_token)))


def _delete_form(paths: _Paths, post: PostView, token: str) -> str:
    return (
        f'    <form method="post" action="{paths.delete.to(post.id)}"'
        ' class="inline-form post-delete">\n'
        f'      <input type="hidden" name="csrf_token" value="{token}">\n'
        '      <button type="submit" class="link-button danger">'
        + _('Delete<span class="visually-hidden"> post %(id)s</span>')
        % {"id": post.id}
        + "</button>\n"
        "    </form>\n"
    )


def _menu(paths: _Paths, post: PostView, viewer: SessionUser, token: str) -> str:
    """What else the viewer may do to a post, behind its "more" button: a <details>, so it
    opens without a script (the page's script closes it on Escape or a click elsewhere)."""
    items = []
    if viewer.id != post.author.id:
        items.append(
            f'      <a class="post-report" href="{paths.report.to(post.id)}">'
            + _('Report<span class="visually-hidden"> post %(id)s</span>') % {"id": post.id}
            + "</a>\n"
        )
    if viewer.id == post.author.id or viewer.is_moderator:
        items.append(_delete_form(paths, post, token))
    more = _("More for post %(id)s") % {"id": post.id}
    return (
        '    <details class="post-menu">\n'
        f'      <summary class="icon-button">{icon_svg(paths.sprite, "more")}'
        f'<span class="visually-hidden">{more}</span></summary>\n'
        f'      <div class="post-menu-items">\n{"".join(items)}      </div>\n'
        "    </details>\n"
    )


def _card(
    paths: _Paths,
    post: PostView,
    viewer: SessionUser | None,
    token: str,
    detail: bool,
    now: datetime,
    words: _Words,
    eager: bool = False,
) -> str:
    author = post.author
    username = escape(author.username)
    post_url = paths.post.to(post.id)
    published = post.status == "published"
    parts = [
        f'<article class="post{"" if published else " post-pending"}" id="post-{post.id}"'
        f' data-post-id="{post.id}">\n'
        '  <header class="post-header">\n'
        f'    <a class="post-author" href="{paths.profile.to(username)}">\n'
        f'      <img class="avatar" src="{escape(author.avatar_url)}" alt="" width="40"'
        ' height="40">\n'
        f'      <span class="post-name" dir="auto">{escape(author.name)}</span>\n'
        f'      <span class="post-handle">@{username}</span>\n'
        "    </a>\n"
        f'    <a class="post-time" href="{post_url}">{time_element(post.shown_at, now)}</a>\n'
        f"{words.audiences.get(post.audience, '')}"
        "  </header>\n",
        words.badges.get(post.status, ""),
    ]
    if post.photos:
        parts.append(post_photos(post, detail, post_url, eager, paths.sprite))
    if post.body:
        body = linked_text(paths, post.body, post.mention_names)
        parts.append(f'  <p class="post-body" dir="auto">{body}</p>\n')
    parts.append('  <footer class="post-footer">\n')
    if not published:
        # Processing or failed: only its author sees it, and can only delete it.
        if viewer is not None:
            parts.append(_delete_form(paths, post, token))
    else:
        if viewer is not None:
            parts.append(_like_form(paths, post.id, post.liked, post.like_count, token))
        else:
            likes = ngettext("%(num)s like", "%(num)s likes", post.like_count) % {
                "num": compact(post.like_count)
            }
            parts.append(
                f'    <span class="post-stat">{icon_svg(paths.sprite, "heart")}{likes}</span>\n'
            )
        comments = ngettext("%(num)s comment", "%(num)s comments", post.comment_count) % {
            "num": compact(post.comment_count)
        }
        share = _("Share link to post %(id)s") % {"id": post.id}
        parts.append(
            f'    <a class="post-stat" href="{post_url}#comments">'
            f"{icon_svg(paths.sprite, 'comment')}{comments}</a>\n"
            # A link to the post without a script; the page's script shares it or copies it.
            f'    <a class="icon-button post-share" href="{post_url}">'
            f"{icon_svg(paths.sprite, 'link')}"
            f'<span class="visually-hidden">{share}</span></a>\n'
        )
        if viewer is not None:
            parts.append(_menu(paths, post, viewer, token))
    parts.append("  </footer>\n</article>\n")
    return "".join(parts)


def post_cards(
    urls: RouteUrls,
    posts: Iterable[PostView],
    viewer: SessionUser | None,
    csrf_token: str,
    detail: bool = False,
    in_list: bool = False,
    eager_first: bool = False,
) -> Markup:
    """The cards of ``posts`` as the viewer sees them (like and delete forms carry
    ``csrf_token``); each in an <li> for a list, photos at full size for a post's page.
    ``eager_first``: these cards open a page, so their first photo is fetched at once and
    first; every other photo waits until it nears the screen."""
    token = escape(csrf_token)
    now = datetime.now(UTC)
    paths = _Paths.of(urls)
    posts = list(posts)
    first = next((post.id for post in posts if post.photos), None) if eager_first else None
    words = _words(i18n.current())
    cards = (
        _card(paths, post, viewer, token, detail, now, words, post.id == first) for post in posts
    )
    if in_list:
        return Markup("".join(f"<li>{card}</li>" for card in cards))
    return Markup("".join(cards))


def _tile(paths: _Paths, post: PostView, eager: bool) -> str:
    """A post in the profile's grid: its first photo in a square, linking to the post, with
    a mark when the post holds more photos. Named by the photo's alt text, else by the start
    of the post's text."""
    photo = post.photos[0]
    count = len(post.photos)
    name = ""
    if not photo.alt:
        text = post.body[:TILE_NAME_CHARS] or _("Photo")
        name = f'<span class="visually-hidden" dir="auto">{escape(text)}</span>'
    more = (
        f'<span class="tile-more">{icon_svg(paths.sprite, "photos")}'
        f'<span class="visually-hidden">{_photo_count(count)}</span></span>'
        if count > 1
        else ""
    )
    return (
        f'<li><a class="tile" id="tile-{post.id}" href="{paths.post.to(post.id)}">{name}'
        f"{tile_cover(photo) if post.sensitive else tile_photo(photo, eager)}{more}</a></li>\n"
    )


def _photo_count(count: int) -> str:
    return ngettext("(%(num)s photo)", "(%(num)s photos)", count) % {"num": count}


def photo_tiles(urls: RouteUrls, posts: Iterable[PostView], eager_first: bool = False) -> Markup:
    """The grid's tiles of ``posts`` (posts without photos have none), each in an <li>.
    ``eager_first``: they open a page, so the first photo is fetched at once and first."""
    paths = _Paths.of(urls)
    shown = [post for post in posts if post.photos]
    return Markup(
        "".join(_tile(paths, post, eager_first and index == 0) for index, post in enumerate(shown))
    )
