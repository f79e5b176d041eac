"""Post cards are written in Python (service/web/cards.py), escaping by hand: every value a
user or storage supplied must come out as text, in element content and in attributes."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from service.app import create_app
from service.reads.views import PhotoView, PostView, RenditionView, SessionUser, UserSummary
from service.settings import load_settings
from service.web.cards import photo_tiles, post_cards
from service.web.urls import RouteUrls
from service.workers.media.images import PHOTO_WIDTHS_PX, widths_for

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
        url=f"/media/{HOSTILE}",
        thumb_url=f"/media/{HOSTILE}",
        width=640,
        height=480,
        alt=HOSTILE,
        renditions=(RenditionView(f"/media/{HOSTILE}", 640, 480, "image/webp"),),
        blurhash=HOSTILE,
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


BLURHASH = "LzIOIZxGwxxG4Tr?wxr?%2w{sUso"


def photo_of(width: int, height: int) -> PhotoView:
    """A photo as the worker leaves it: its widths (true sizes), display size and BlurHash."""
    scale = 1080 / max(width, height)
    return PhotoView(
        "/media/photos/a/display.jpg",
        "/media/photos/a/thumb.jpg",
        round(width * scale),
        round(height * scale),
        "",
        tuple(
            RenditionView(
                f"/media/photos/a/w{kept}.webp", kept, round(height * kept / width), "image/webp"
            )
            for kept in widths_for(width, PHOTO_WIDTHS_PX)
        ),
        BLURHASH,
    )


def photo_tags(html: str) -> list[dict[str, dict[str, str | None]]]:
    """Each photo's svg (its box), image (placeholder), source and img, by tag name (the
    icons of a carousel's buttons aside)."""
    shown: list[dict[str, dict[str, str | None]]] = []
    for tag, attrs in parse(html).tags:
        if tag == "svg" and attrs.get("class") != "photo-space":
            continue
        if tag == "svg":
            shown.append({})
        if shown and tag in {"svg", "image", "source", "img"} and attrs.get("class") != "avatar":
            shown[-1][tag] = attrs
    return shown


PHONE_AND_TABLET = "(max-width: 480px) calc(100vw - 46px), (max-width: 720px) calc(100vw - 66px)"


def test_a_photo_keeps_its_shape_within_limits_and_tells_browsers_which_width_to_fetch() -> None:
    posts = [
        hostile_post(id=1, photos=(photo_of(3000, 1000),)),  # wider than 1.91:1
        hostile_post(id=2, photos=(photo_of(1000, 3000),)),  # taller than 4:5
        hostile_post(id=3, photos=(photo_of(1200, 900),)),  # 4:3, within the limits
        hostile_post(id=4, photos=(photo_of(1200, 900), photo_of(900, 1200))),  # a carousel
    ]
    html = str(post_cards(URLS, posts, viewer(), "token", in_list=True, eager_first=True))
    wide, tall, landscape, *carousel = photo_tags(html)

    # The box: the placeholder's viewBox, the photo's shape capped; a carousel's photos all
    # in the first one's.
    boxes = [photo["svg"]["viewbox"] for photo in (wide, tall, landscape, *carousel)]
    assert boxes == [
        "0 0 1000 524",
        "0 0 1000 1250",
        "0 0 1000 750",
        "0 0 1000 750",
        "0 0 1000 750",
    ]
    for photo in (wide, tall, landscape, *carousel):
        assert photo["svg"]["aria-hidden"] == "true"
        assert photo["image"]["href"].startswith("data:image/png;base64,")
        assert photo["source"]["type"] == "image/webp"
        # The img declares the box too, at the widest width's pixels.
        img = photo["img"]
        svg_width, svg_height = map(int, photo["svg"]["viewbox"].split()[2:])
        assert abs(int(img["width"]) / int(img["height"]) - svg_width / svg_height) < 0.01
        assert img["src"] == "/media/photos/a/display.jpg" and img["decoding"] == "async"

    assert wide["source"]["srcset"] == ", ".join(
        f"/media/photos/a/w{width}.webp {width}w" for width in (320, 640, 1080, 1600)
    )
    assert tall["source"]["srcset"].endswith("/media/photos/a/w1000.webp 1000w")
    # A panorama covering a 1.91:1 box is drawn 3 / 1.91 times as wide as the box.
    assert wide["source"]["sizes"] == (
        "(max-width: 480px) calc((100vw - 46px) * 1.57), "
        "(max-width: 720px) calc((100vw - 66px) * 1.57), 1028px"
    )
    assert tall["source"]["sizes"] == landscape["source"]["sizes"] == f"{PHONE_AND_TABLET}, 654px"
    # A carousel shows one photo at a time, each the card's whole width: the upright photo
    # covers the first one's 4:3 box at the box's width.
    for photo in carousel:
        assert photo["source"]["sizes"] == f"{PHONE_AND_TABLET}, 654px"
    # The page's first photo is fetched at once and first; the rest when they near the screen.
    assert wide["img"].get("fetchpriority") == "high" and "loading" not in wide["img"]
    for photo in (tall, landscape, *carousel):
        assert photo["img"]["loading"] == "lazy" and "fetchpriority" not in photo["img"]
    # A list appended below a page ("load more", new posts) is all lazy.
    more = photo_tags(str(post_cards(URLS, posts, viewer(), "token", in_list=True)))
    assert all(photo["img"]["loading"] == "lazy" for photo in more)


def test_a_photo_processed_before_widths_existed_shows_its_display_size() -> None:
    photo = photo_of(1200, 900)._replace(renditions=(), blurhash=None)
    html = str(post_cards(URLS, [hostile_post(photos=(photo,))], viewer(), "token"))
    [shown] = photo_tags(html)
    assert set(shown) == {"svg", "img"}  # no placeholder, no srcset: the display JPEG alone
    assert shown["svg"]["viewbox"] == "0 0 1000 750"
    assert shown["img"]["src"] == "/media/photos/a/display.jpg"
    assert (shown["img"]["width"], shown["img"]["height"]) == ("1080", "810")
    assert "<picture>" not in html


def test_the_post_page_shows_each_photo_whole_with_its_widths() -> None:
    post = hostile_post(photos=(photo_of(1000, 3000), photo_of(1200, 900)))
    html = str(post_cards(URLS, [post], viewer(), "token", detail=True, eager_first=True))
    tags = parse(html).tags
    sources = [attrs for tag, attrs in tags if tag == "source"]
    images = [attrs for tag, attrs in tags if tag == "img" and attrs.get("class") == "photo-full"]
    assert [attrs["srcset"].rsplit(" ", 1)[1] for attrs in sources] == ["1000w", "1200w"]
    assert [(attrs["width"], attrs["height"]) for attrs in images] == [
        ("360", "1080"),
        ("1080", "810"),
    ]
    assert images[0]["fetchpriority"] == "high" and images[1]["loading"] == "lazy"


def with_class(found: Elements, name: str) -> list[dict[str, str | None]]:
    """The attributes of each element that has the class ``name``."""
    return [attrs for _, attrs in found.tags if name in (attrs.get("class") or "").split()]


def test_several_photos_are_a_carousel_whose_controls_wait_for_the_script() -> None:
    post = hostile_post(photos=(photo_of(1200, 900), photo_of(900, 1200), photo_of(1000, 1000)))
    for detail in (False, True):
        found = parse(str(post_cards(URLS, [post], viewer(), "token", detail=detail)))
        [carousel] = with_class(found, "carousel")
        assert carousel["aria-roledescription"] == "carousel"
        assert carousel["aria-label"] == "3 photos" and "data-carousel" in carousel
        slides = with_class(found, "carousel-slide")
        assert [slide["aria-label"] for slide in slides] == ["1 of 3", "2 of 3", "3 of 3"]
        assert {slide["aria-roledescription"] for slide in slides} == {"slide"}
        # Buttons with names, dots and a status line to announce the position: hidden until
        # the script runs, so without it the strip that scrolls is all there is.
        [previous], [following] = (
            with_class(found, "carousel-prev"),
            with_class(found, "carousel-next"),
        )
        assert (previous["aria-label"], previous["aria-disabled"]) == ("Previous photo", "true")
        assert (following["aria-label"], following["aria-disabled"]) == ("Next photo", "false")
        assert "hidden" in previous and "hidden" in following
        [dots] = with_class(found, "carousel-dots")
        assert "hidden" in dots and dots["aria-hidden"] == "true"
        current = [dot["data-current"] for dot in with_class(found, "carousel-dot")]
        assert current == ["true", "false", "false"]
        [status] = with_class(found, "carousel-status")
        assert status["aria-live"] == "polite"
    # One photo is no carousel.
    single = str(post_cards(URLS, [hostile_post(photos=(photo_of(1200, 900),))], None, ""))
    assert "carousel" not in single


def test_on_its_page_each_photo_links_to_its_sharpest_copy() -> None:
    old = photo_of(1200, 900)._replace(renditions=(), blurhash=None)
    post = hostile_post(photos=(photo_of(3000, 2000), old))
    found = parse(str(post_cards(URLS, [post], viewer(), "token", detail=True)))
    links = [attrs["href"] for tag, attrs in found.tags if attrs.get("class") == "photo-open"]
    # Without a script, the widest width; a photo processed before widths, its display size.
    assert links == ["/media/photos/a/w1600.webp", "/media/photos/a/display.jpg"]
    assert "View full size" in "".join(found.text)
    # In a list, a photo links to its post.
    listed = parse(str(post_cards(URLS, [post], viewer(), "token")))
    assert {attrs["href"] for _, attrs in listed.tags if attrs.get("class") == "photo"} == {"/p/7"}


def test_tiles_show_each_photo_posts_first_photo_square_and_leave_text_posts_out() -> None:
    posts = [
        hostile_post(id=1, photos=(photo_of(1200, 900)._replace(alt=HOSTILE), photo_of(9, 12))),
        hostile_post(id=2, photos=()),
        hostile_post(id=3, photos=(photo_of(3000, 1000)._replace(alt=""),), body="Seen " * 40),
        hostile_post(id=4, photos=(photo_of(900, 1200)._replace(alt=""),), body=""),
    ]
    html = str(photo_tiles(URLS, posts, eager_first=True))
    found = parse(html)
    links = [attrs for tag, attrs in found.tags if tag == "a"]
    assert [(attrs["id"], attrs["href"]) for attrs in links] == [
        ("tile-1", "/p/1"),
        ("tile-3", "/p/3"),
        ("tile-4", "/p/4"),
    ]
    shown = photo_tags(html)
    assert [photo["svg"]["viewbox"] for photo in shown] == ["0 0 1000 1000"] * 3
    # A third of the content column less the gaps; a 3:1 panorama covers its square 3 times
    # as wide, a 4:3 photo 4/3 as wide, an upright one at the square's own width.
    assert [photo["source"]["sizes"] for photo in shown] == [
        "(max-width: 480px) calc((100vw - 28px) * 0.444), "
        "(max-width: 720px) calc((100vw - 40px) * 0.444), 303px",
        "(max-width: 480px) calc((100vw - 28px) * 1), "
        "(max-width: 720px) calc((100vw - 40px) * 1), 681px",
        "(max-width: 480px) calc((100vw - 28px) * 0.333), "
        "(max-width: 720px) calc((100vw - 40px) * 0.333), 227px",
    ]
    assert shown[0]["img"]["fetchpriority"] == "high"
    assert all(photo["img"]["loading"] == "lazy" for photo in shown[1:])
    # Only the post of two photos is marked, in words for a screen reader too.
    assert html.count('class="tile-more"') == 1 and "(2 photos)" in html
    # A tile without alt text is named by the start of its post's text, else "Photo"; the
    # hostile alt text stays an attribute's text.
    text = "".join(found.text)
    assert ("Seen " * 16).strip() in text and "Photo" in text
    assert shown[0]["img"]["alt"] == HOSTILE
    assert "<script>" not in html
