"""Post cards are written in Python (service/web/cards.py), escaping by hand: every value a
user or storage supplied must come out as text, in element content and in attributes."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from service.app import create_app
from service.reads.views import PhotoView, PostView, SessionUser, UserSummary
from service.settings import load_settings
from service.web.cards import post_cards
from service.web.urls import RouteUrls

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2) x="'


class Elements(HTMLParser):
    """The start tags and their attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def hostile_post(**changes: object) -> PostView:
    moment = datetime(2026, 11, 21, 8, 18, 58, tzinfo=UTC)
    photo = PhotoView(
        url=f"/media/{HOSTILE}", thumb_url=f"/media/{HOSTILE}", width=640, height=480, alt=HOSTILE
    )
    fields = {
        "id": 7,
        "author": UserSummary(3, "ann", HOSTILE, f"/media/{HOSTILE}"),
        "body": HOSTILE,
        "status": "published",
        "created_at": moment,
        "published_at": moment,
        "like_count": 1,
        "comment_count": 2,
        "liked": False,
        "photos": (photo, photo),
    }
    return PostView(**{**fields, **changes})


# The application's own routes, as the templates bind them.
URLS = RouteUrls(create_app(load_settings(env={})).router)


def viewer(user_id: int = 9, role: str = "user") -> SessionUser:
    return SessionUser(user_id, "reader", "", "reader@example.com", role, is_confirmed=True)


def test_user_text_and_stored_urls_are_never_markup() -> None:
    for detail in (False, True):
        html = str(
            post_cards(URLS, [hostile_post()], viewer(), HOSTILE, detail=detail, in_list=True)
        )
        found = parse(html)
        tags = [tag for tag, _ in found.tags]
        assert "script" not in tags
        assert all("onerror" not in attrs and "x" not in attrs for _, attrs in found.tags)
        # The text reads exactly as typed: the display name and the body.
        assert "".join(found.text).count(HOSTILE) == 2
        images = [attrs for tag, attrs in found.tags if tag == "img"]
        assert {attrs["alt"] for attrs in images} == {"", HOSTILE}
        assert {attrs["src"] for attrs in images} == {f"/media/{HOSTILE}"}
        tokens = {attrs["value"] for tag, attrs in found.tags if attrs.get("name") == "csrf_token"}
        assert tokens == {HOSTILE}


def test_forms_follow_the_viewer() -> None:
    """Likes need a signed-in viewer and a published post; only the author and moderators
    get a delete button; photos are thumbnails in lists and full size on the post page."""

    def forms(post: PostView, reader: SessionUser | None, detail: bool = False) -> list[str]:
        tags = parse(str(post_cards(URLS, [post], reader, "token", detail=detail))).tags
        return [attrs["action"] or "" for tag, attrs in tags if tag == "form"]

    post = hostile_post(liked=True)
    assert forms(post, viewer()) == ["/p/7/unlike"]
    assert forms(post._replace(liked=False), viewer()) == ["/p/7/like"]
    assert forms(post, viewer(user_id=3)) == ["/p/7/unlike", "/p/7/delete"]
    assert forms(post, viewer(role="moderator")) == ["/p/7/unlike", "/p/7/delete"]
    assert forms(post, None) == []
    assert forms(post._replace(status="processing", published_at=None), viewer(user_id=3)) == [
        "/p/7/delete"
    ]
    classes = {
        detail: [
            attrs.get("class")
            for tag, attrs in parse(str(post_cards(URLS, [post], None, "", detail=detail))).tags
            if tag == "img"
        ]
        for detail in (False, True)
    }
    assert classes[False] == ["avatar", None, None]
    assert classes[True] == ["avatar", "photo-full", "photo-full"]
