"""Photos as cards and tiles draw them: a box of the photo's shape holding its BlurHash
placeholder until the photo, in the width the layout needs (``srcset`` and ``sizes``),
covers it; several photos as a carousel; on the post page each photo whole, linking to its
sharpest copy. Written in Python for the same reason as the cards (service/web/cards.py),
and under the same rule: every string from a user or from storage goes through ``escape``.
The script adds behaviour only (docs/rendering.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from html import escape

from service.i18n import gettext, ngettext
from service.reads.views import PhotoView, PostView
from service.web.icons import icon_svg
from service.web.placeholders import placeholder_url

# The width of a card's photo area in CSS px, as static/style.css lays it out: up to each
# viewport width (px), the viewport less this many px (page padding, the card's padding and
# border); beyond them the page column's fixed width. `sizes` says the same to browsers.
CARD_PHOTO_WIDTHS = ((480, 46), (720, 66))
CARD_PHOTO_MAX_PX = 654
# The profile's grid of tiles spans the page's content column: the viewport less the
# page's padding, then the column's fixed width; three columns with 4 px gaps.
GRID_WIDTHS = ((480, 20), (720, 32))
GRID_MAX_PX = 688
GRID_COLUMNS = 3
PHOTO_GRID_GAP_PX = 4
# A photo alone in a card keeps its own shape within these (width / height): no taller than
# 4:5, no wider than 1.91:1, as the big photo apps do; beyond them it is cropped, centred.
# Several photos are a carousel whose box is the first photo's, as Instagram's is.
NARROWEST_RATIO = 4 / 5
WIDEST_RATIO = 1.91
# The placeholder's viewBox is this wide; its height gives the box's shape.
SPACE_WIDTH = 1000


def _sizes(
    scale: float,
    widths: tuple[tuple[int, int], ...] = CARD_PHOTO_WIDTHS,
    widest_px: int = CARD_PHOTO_MAX_PX,
    columns: int = 1,
) -> str:
    """``sizes`` for a photo in one of ``columns`` columns of an area ``widths`` wide (up to
    ``widest_px``), drawn ``scale`` times as wide as its box (a panorama cropped to cover it
    is drawn wider)."""
    gaps = PHOTO_GRID_GAP_PX * (columns - 1)
    factor = scale / columns
    parts = []
    for viewport, less in widths:
        if factor == 1:
            parts.append(f"(max-width: {viewport}px) calc(100vw - {less + gaps}px)")
        else:
            parts.append(
                f"(max-width: {viewport}px) calc((100vw - {less + gaps}px) * {factor:.3g})"
            )
    parts.append(f"{math.ceil((widest_px - gaps) * factor)}px")
    return ", ".join(parts)


def _loading(eager: bool) -> str:
    # The first photo of a page is the largest thing above the fold: fetched first.
    return ' fetchpriority="high"' if eager else ' loading="lazy"'


def _picture(photo: PhotoView, img_attributes: str, sizes: str) -> str:
    """The photo's widths as WebP through ``srcset``, and the display size (JPEG for opaque
    photos) for a browser without WebP."""
    img = f'<img src="{escape(photo.url)}" alt="{escape(photo.alt)}"{img_attributes}>'
    if not photo.renditions:  # processed before there were widths: the display size alone
        return img
    srcset = ", ".join(f"{escape(item.url)} {int(item.width)}w" for item in photo.renditions)
    return (
        f'<picture><source type="{photo.renditions[0].content_type}" srcset="{srcset}"'
        f' sizes="{sizes}">{img}</picture>'
    )


def _ratio(photo: PhotoView) -> float:
    """Width over height, from the widest width when there are widths (the most exact)."""
    shape = photo.renditions[-1] if photo.renditions else photo
    return max(1, int(shape.width)) / max(1, int(shape.height))


def _card_box(photo: PhotoView) -> float:
    """The shape of a card's photo box: the photo's own, within 4:5 and 1.91:1."""
    return min(max(_ratio(photo), NARROWEST_RATIO), WIDEST_RATIO)


def _largest_url(photo: PhotoView) -> str:
    """The sharpest copy there is: the widest width, else the display size."""
    return escape(photo.renditions[-1].url if photo.renditions else photo.url)


def _html(words: str) -> str:
    """Words of the catalogue, as text or an attribute's value in markup built here."""
    return escape(words, quote=True)


def _slide_label(number: int, count: int) -> str:
    return gettext("%(number)s of %(count)s") % {"number": number, "count": count}


def _photos_label(count: int) -> str:
    return ngettext("%(num)s photo", "%(num)s photos", count) % {"num": count}


def _space(photo: PhotoView, box: float) -> str:
    """A box of shape ``box`` filled with the photo's placeholder, if it has one."""
    space_height = max(1, round(SPACE_WIDTH / box))
    placeholder = photo.blurhash and placeholder_url(photo.blurhash, SPACE_WIDTH, space_height)
    fill = (
        f'<image href="{placeholder}" width="{SPACE_WIDTH}" height="{space_height}"'
        ' preserveAspectRatio="none"/>'
        if placeholder
        else ""
    )
    return (
        f'<svg class="photo-space" viewBox="0 0 {SPACE_WIDTH} {space_height}" aria-hidden="true"'
        f' focusable="false">{fill}</svg>'
    )


def _boxed_photo(
    photo: PhotoView, box: float, eager: bool, sizes_of: Callable[[float], str]
) -> str:
    """A photo in a box of shape ``box``: the placeholder filling it until the photo,
    cropped to cover it, arrives on top. ``sizes_of(scale)`` is its ``sizes``."""
    ratio = _ratio(photo)
    widest = int(photo.renditions[-1].width) if photo.renditions else int(photo.width)
    attributes = (
        f' width="{widest}" height="{max(1, round(widest / box))}"'
        f' decoding="async"{_loading(eager)}'
    )
    return f"{_space(photo, box)}{_picture(photo, attributes, sizes_of(max(1.0, ratio / box)))}"


def _card_photo(photo: PhotoView, box: float, post_url: str, eager: bool) -> str:
    """A photo in a card, linking to its post (the page's script opens the viewer instead)."""
    # The link is named by the photo's description; one its author left undescribed still
    # needs a name for a screen reader to announce (WCAG 2.4.4).
    undescribed = gettext("Photo with no description")
    unnamed = "" if photo.alt else f'<span class="visually-hidden">{_html(undescribed)}</span>'
    # Its own shape, for the viewer the page's script opens on it (the image has its box's).
    return (
        f'<a class="photo" href="{post_url}" data-width="{int(photo.width)}"'
        f' data-height="{int(photo.height)}">{_boxed_photo(photo, box, eager, _sizes)}{unnamed}</a>'
    )


def _full_photo(photo: PhotoView, eager: bool) -> str:
    """A photo whole, on its post's page, linking to its sharpest copy: the page's script
    opens it in the viewer instead (templates/posts/_viewer.html)."""
    picture = _picture(
        photo,
        f' width="{int(photo.width)}" height="{int(photo.height)}" class="photo-full"'
        f' decoding="async"{_loading(eager)}',
        _sizes(1.0),
    )
    full_size = _html(gettext("View full size"))
    return (
        f'<a class="photo-open" href="{_largest_url(photo)}">'
        f'<span class="visually-hidden">{full_size}</span>{picture}</a>'
    )


def _carousel(sprite: str, classes: str, slides: list[str]) -> str:
    """Several photos, one at a time. Without a script a strip that scrolls sideways and
    snaps to each photo; the page's script shows the buttons and dots (rendered hidden here)
    and moves them, announcing where it is in the status line."""
    count = len(slides)
    previous, following = _html(gettext("Previous photo")), _html(gettext("Next photo"))
    items = "".join(
        '      <div class="carousel-slide" role="group" aria-roledescription="slide"'
        f' aria-label="{_html(_slide_label(number, count))}">{slide}</div>\n'
        for number, slide in enumerate(slides, start=1)
    )
    dots = "".join(
        f'<span class="carousel-dot" data-current="{"true" if number == 0 else "false"}"></span>'
        for number in range(count)
    )
    return (
        f'  <div class="{classes} carousel" role="group" aria-roledescription="carousel"'
        f' aria-label="{_html(_photos_label(count))}" data-carousel>\n'
        f'    <div class="carousel-track">\n{items}    </div>\n'
        '    <button type="button" class="carousel-button carousel-prev"'
        f' aria-label="{previous}" aria-disabled="true" hidden>'
        f"{icon_svg(sprite, 'chevron-left')}</button>\n"
        '    <button type="button" class="carousel-button carousel-next"'
        f' aria-label="{following}" aria-disabled="false" hidden>'
        f"{icon_svg(sprite, 'chevron-right')}</button>\n"
        f'    <p class="carousel-dots" aria-hidden="true" hidden>{dots}</p>\n'
        '    <p class="carousel-status visually-hidden" aria-live="polite"'
        ' aria-atomic="true"></p>\n'
        "  </div>\n"
    )


def _sensitive_cover(photos: str) -> str:
    """Photos a moderator marked sensitive, behind a cover the viewer opens: a <details>, so
    it opens without a script too; the photos in it are not fetched until it is opened (they
    load lazily, and a closed <details> lays out none of its content)."""
    label, hint = _html(gettext("Sensitive content")), _html(gettext("Show the photos"))
    return (
        '  <details class="sensitive" data-sensitive>\n'
        f'    <summary class="sensitive-cover"><span class="sensitive-label">{label}</span>'
        f' <span class="sensitive-hint">{hint}</span></summary>\n'
        f"{photos}"
        "  </details>\n"
    )


def post_photos(post: PostView, detail: bool, post_url: str, eager: bool, sprite: str) -> str:
    """A card's photos: one in its box or several in a carousel, each linking to the post;
    on the post's own page (``detail``) each whole, linking to its sharpest copy. ``eager``:
    the first is the top of the page. ``sprite``: the icons' URL. A post marked sensitive
    shows them behind a cover."""
    if post.sensitive:
        # Behind the cover, nothing is fetched first: the photos wait to be shown.
        return _sensitive_cover(_post_photos(post, detail, post_url, False, sprite))
    return _post_photos(post, detail, post_url, eager, sprite)


def _post_photos(post: PostView, detail: bool, post_url: str, eager: bool, sprite: str) -> str:
    count = len(post.photos)
    if detail:
        slides = [_full_photo(photo, eager and i == 0) for i, photo in enumerate(post.photos)]
        classes = f"photos photos-{count} photos-detail"
    else:
        box = _card_box(post.photos[0])
        slides = [
            _card_photo(photo, box, post_url, eager and i == 0)
            for i, photo in enumerate(post.photos)
        ]
        classes = f"photos photos-{count}"
    if count == 1:
        return f'  <div class="{classes}">\n    {slides[0]}\n  </div>\n'
    return _carousel(sprite, classes, slides)


def tile_cover(photo: PhotoView) -> str:
    """A tile of a post marked sensitive: the photo's placeholder only, and the cover's
    words; the photo itself is seen on the post's page once its cover is opened."""
    label = _html(gettext("Sensitive content"))
    return (
        f'{_space(photo, 1.0)}<span class="tile-sensitive"><span class="sensitive-label">'
        f"{label}</span></span>"
    )


def tile_photo(photo: PhotoView, eager: bool) -> str:
    """A photo in a square tile of a profile's grid, a third of the content column wide."""
    sizes = functools.partial(
        _sizes, widths=GRID_WIDTHS, widest_px=GRID_MAX_PX, columns=GRID_COLUMNS
    )
    return _boxed_photo(photo, 1.0, eager, sizes)
