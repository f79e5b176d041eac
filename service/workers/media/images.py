"""Pillow work: checking that an uploaded file is an image we accept, and rendering the
sizes we serve. Everything here is CPU-bound and blocking: call it in an executor. What
decodes pixels (``verify``, ``render``) says beforehand, from the headers alone, how many it
will hold (``measure``, ``render_cost``), so the caller can wait for room in the process's
pixel budget first.

Files are judged by their content only. The name and Content-Type a client sends are used
for one thing: a file that claims to be something else than what it is gets refused, since
a mismatch is how disguised files (an HTML page named ``x.jpg``) present themselves.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import blurhash
from PIL import Image, ImageOps

from service import i18n
from service.i18n import N_
from service.workers.media import pngstream

# What a client may upload; Pillow is never asked to try its other decoders (PSD, EPS, ...).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Phones write multi-picture JPEGs (a photo plus a preview or depth map): still a JPEG.
FORMAT_ALIASES = {"MPO": "JPEG"}
# 40 megapixels: above every common phone (12-24 MP by default) and most cameras, while a
# decoded image stays under ~160 MB (RGBA); how many are decoded at once is up to the
# process's pixel budget (budget.PixelBudget).
MAX_PIXELS = 40_000_000
# Decoding a WebP holds four copies of it (WEBP_DECODED_COPIES), 16 bytes a pixel: at 12 MP
# (a 4000x3000 phone photo; WebPs are mostly smaller) that is 192 MB, about what a process
# can spare for one image; at 40 MP it would be 640 MB.
MAX_WEBP_PIXELS = 12_000_000
# Panoramas beyond 1:20 are strips no layout can show; they are also a cheap way to make a
# tiny file declare a huge dimension.
MAX_ASPECT_RATIO = 20
# Only the first frame is kept, so a long animation is not a photo; walking its frames
# still costs time in proportion to their number. 300 frames is 10 s at 30 fps.
MAX_FRAMES = 300

# Pillow's own decompression-bomb check is replaced by the stricter one here, which runs at
# the same point (after the header, before any pixel is decoded) and answers 422 instead of
# warning.
Image.MAX_IMAGE_PIXELS = None

# Loading a WebP holds four full-size copies: libwebp's animation decoder keeps two canvases,
# hands the frame over as bytes, and Pillow copies those into the image.
WEBP_DECODED_COPIES = 4
# A reduction by box averaging stops at twice the final size and LANCZOS does the rest, as
# Image.thumbnail does: indistinguishable from LANCZOS all the way, at a fraction of the cost.
REDUCING_GAP = 2
# Rows are converted and reduced in bands of about this many pixels (4 MB in RGBA).
BAND_PIXELS = 1_000_000
ORIENTATION_TAG = 0x0112
# What Image.exif_transpose does for each EXIF orientation.
EXIF_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

DISPLAY_EDGE_PX = 1080
THUMB_EDGE_PX = 320
AVATAR_EDGES_PX = (400, 64)
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# The widths a photo is stored at for srcset, each ``w<width>.webp``: a 320 px column and a
# phone at 1x, a phone at 2x, a phone at 3x (390 CSS px) and the desktop column at 1.5x, the
# desktop column (654 CSS px) at 2x and beyond. docs/media.md has the layouts.
PHOTO_WIDTHS_PX = (320, 640, 1080, 1600)
# The widths are WebP, which at this quality looks like JPEG at 85 in about two thirds of the
# bytes; browsers without WebP get the display JPEG (docs/media.md).
RENDITION_FORMAT = "webp"
RENDITION_WEBP_QUALITY = 80
# The BlurHash is computed from a copy this small (its longer edge, in px): a hash of 4x3
# components cannot hold more detail, and the pure-Python encoder costs about 8 ms at it.
BLURHASH_SAMPLE_EDGE_PX = 32
BLURHASH_COMPONENTS = (4, 3)  # along the longer edge, along the shorter

EXTENSION_FORMATS = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "jpe": "JPEG",
    "jfif": "JPEG",
    "png": "PNG",
    "apng": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
}
MEDIA_TYPE_FORMATS = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
# Names and types that say "not a raster image" outright.
FOREIGN_EXTENSIONS = frozenset({"svg", "svgz", "htm", "html", "xhtml", "xml", "txt", "js"})


class Rejected(Exception):
    """The file is not an image we accept; ``status`` is the HTTP answer (415 or 422).

    Raised in an executor's thread, where no request's language is in use: the message is
    kept marked and untranslated with its values, and worded when read (``message``), by
    the request that answers with it."""

    def __init__(self, status: int, words: str, **values: object) -> None:
        super().__init__(words % values if values else words)
        self.status = status
        self.words = words
        self.values = values

    @property
    def message(self) -> str:
        words = i18n.gettext(self.words)
        return words % self.values if self.values else words


@dataclasses.dataclass(frozen=True)
class Checked:
    format: str
    width: int
    height: int
    # Decoded pixels that ``verify`` holds at its peak (see budget.PixelBudget).
    verify_pixels: int = 0


@dataclasses.dataclass(frozen=True)
class Variant:
    """One stored width of a photo, as the photo row records it (``photos.renditions``)."""

    width: int
    height: int
    format: str

    def as_record(self) -> dict[str, int | str]:
        return {"width": self.width, "height": self.height, "format": self.format}


@dataclasses.dataclass(frozen=True)
class Rendered:
    """Encoded files by name with their extension (``display.jpg``, ``thumb.jpg``,
    ``400.webp``, ``w1080.webp``...). ``extension`` and the dimensions are those of the sizes
    (``display``, ``thumb``, avatars), which share one format; ``variants`` are the widths
    for srcset, narrowest first."""

    extension: str
    content_type: str
    width: int
    height: int
    files: dict[str, bytes]
    variants: tuple[Variant, ...] = ()
    blurhash: str | None = None


def declared_format(filename: str, media_type: str) -> str | None:
    """What the client says the file is: a format name, ``"other"`` for something that is
    plainly not an image, or None when it says nothing useful."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[extension]
    if extension in FOREIGN_EXTENSIONS:
        return "other"
    media_type = media_type.split(";", 1)[0].strip().lower()
    if media_type in MEDIA_TYPE_FORMATS:
        return MEDIA_TYPE_FORMATS[media_type]
    if media_type.startswith("text/") or media_type == "image/svg+xml":
        return "other"
    return None


def _check_geometry(width: int, height: int, kind: str) -> None:
    if width < 1 or height < 1:
        raise Rejected(422, N_("The image has no pixels."))
    if kind == "WEBP" and width * height > MAX_WEBP_PIXELS:
        raise Rejected(
            422,
            N_(
                "WebP images are limited to %(megapixels)s megapixels; export this one as"
                " JPEG or PNG."
            ),
            megapixels=MAX_WEBP_PIXELS // 1_000_000,
        )
    if width * height > MAX_PIXELS:
        raise Rejected(
            422,
            N_("The image is %(width)s×%(height)s pixels; the limit is %(megapixels)s megapixels."),
            width=width,
            height=height,
            megapixels=MAX_PIXELS // 1_000_000,
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise Rejected(
            422,
            N_("The image is too long and narrow (more than 1:%(ratio)s)."),
            ratio=MAX_ASPECT_RATIO,
        )


def _frame_count(image: Image.Image, source: BinaryIO) -> int:
    if image.format == "GIF":
        source.seek(0)
        return count_gif_frames(source, MAX_FRAMES + 1)
    # PNG (acTL chunk) and WebP (demuxer) state their frame count without decoding.
    return int(getattr(image, "n_frames", 1))


def _open(source: BinaryIO) -> Image.Image:
    try:
        return Image.open(source, formats=ACCEPTED_FORMATS)
    except Image.UnidentifiedImageError as error:
        raise Rejected(415, N_("That file is not a JPEG, PNG, WebP or GIF image.")) from error
    except Exception as error:  # a known format whose headers are cut short or damaged
        raise _damaged() from error


def _decode_cost(image: Image.Image) -> int:
    """Pixels that loading ``image`` (opened, drafted, not yet loaded) holds at once."""
    pixels = image.size[0] * image.size[1]
    return pixels * WEBP_DECODED_COPIES if image.format == "WEBP" else pixels


def _damaged() -> Rejected:
    return Rejected(422, N_("The image is damaged or incomplete. Try exporting it again."))


def measure(path: Path, declared: str | None = None) -> Checked:
    """Everything about the file at ``path`` that its headers tell, without decoding a pixel:
    its format, its dimensions, and what ``verify`` will cost."""
    with path.open("rb") as source:
        image = _open(source)
        with image:
            kind = FORMAT_ALIASES.get(image.format or "", image.format or "")
            if declared is not None and declared != kind:
                raise Rejected(
                    415,
                    N_("The file's name or type does not match its content (%(kind)s)."),
                    kind=kind,
                )
            width, height = image.size
            _check_geometry(width, height, kind)
            try:
                if _frame_count(image, source) > MAX_FRAMES:
                    raise Rejected(
                        422, N_("Animations are limited to %(frames)s frames."), frames=MAX_FRAMES
                    )
                image.seek(0)
                image.draft("RGB", _check_draft(width, height))
            except Rejected:
                raise
            except Exception as error:  # Pillow signals damage with many exception types
                raise _damaged() from error
            # A PNG is verified as a stream (pngstream.verify), never decoded whole.
            cost = 0 if kind == "PNG" else _decode_cost(image)
            return Checked(kind, width, height, cost)


def _check_draft(width: int, height: int) -> tuple[int, int]:
    # A reduced-scale decode (JPEG only) still reads every byte of the file, so a truncated
    # or damaged file fails at a fraction of the cost.
    return max(1, width // 8), max(1, height // 8)


def verify(path: Path) -> None:
    """Decode the first frame of the file at ``path`` (measured first), to refuse a damaged
    or truncated file now rather than fail its processing later."""
    with path.open("rb") as source, _open(source) as image:
        try:
            if image.format == "PNG":
                pngstream.verify(source)
                return
            image.seek(0)
            image.draft("RGB", _check_draft(*image.size))
            image.load()
        except Exception as error:  # Pillow signals damage with many exception types
            raise _damaged() from error


def check(path: Path, declared: str | None = None) -> Checked:
    """``measure`` and ``verify`` at once, for callers that hold no pixel budget."""
    checked = measure(path, declared)
    verify(path)
    return checked


def count_gif_frames(source: BinaryIO, stop_at: int) -> int:
    """Count the images in a GIF by walking its blocks, without decompressing anything;
    stops counting at ``stop_at``."""
    header = source.read(13)
    if len(header) < 13:
        return 0
    position = 13
    if header[10] & 0x80:
        position += 3 << ((header[10] & 7) + 1)
    frames = 0
    while frames < stop_at:
        source.seek(position)
        introducer = source.read(1)
        if introducer == b"\x2c":  # image descriptor
            descriptor = source.read(9)
            if len(descriptor) < 9:
                break
            position += 10
            if descriptor[8] & 0x80:
                position += 3 << ((descriptor[8] & 7) + 1)
            position += 1  # LZW minimum code size
            frames += 1
        elif introducer == b"\x21":  # extension: label, then sub-blocks
            position += 2
        else:  # trailer, end of file or garbage
            break
        position = _skip_sub_blocks(source, position)
        if position < 0:
            break
    return frames


def _skip_sub_blocks(source: BinaryIO, position: int) -> int:
    while True:
        source.seek(position)
        size = source.read(1)
        if not size:
            return -1
        position += 1 + size[0]
        if size[0] == 0:
            return position


@dataclasses.dataclass(frozen=True)
class Renditions:
    """The sizes to make of an upload. Each is no larger than ``long_edge`` along the
    source's longer edge and ``short_edge`` along its shorter one, and each of ``widths`` no
    wider than that width, so the source may be decoded and reduced down to those before the
    sizes are made from it. ``blurhash``: compute the image's BlurHash too."""

    long_edge: int
    short_edge: int
    sizes: dict[str, Callable[[Image.Image], Image.Image]]
    widths: tuple[int, ...] = ()
    blurhash: bool = False


# EXIF orientations that turn the stored image a quarter turn: its width is the height shown.
QUARTER_TURNS = frozenset({5, 6, 7, 8})


def _needed(
    size: tuple[int, int], renditions: Renditions, gap: int, orientation: object = None
) -> tuple[int, int]:
    """The least (width, height) a reduced source (of ``size``, as stored, before
    ``orientation`` turns it upright) must keep: ``gap`` times the sizes."""
    turned = orientation in QUARTER_TURNS
    upright = (size[1], size[0]) if turned else size
    long_edge, short_edge = renditions.long_edge * gap, renditions.short_edge * gap
    wanted = (long_edge, short_edge) if upright[0] >= upright[1] else (short_edge, long_edge)
    if renditions.widths:  # widths bound the upright width only
        wanted = (max(wanted[0], max(renditions.widths) * gap), wanted[1])
    return (wanted[1], wanted[0]) if turned else wanted


def _reduce_factor(size: tuple[int, int], renditions: Renditions, orientation: object) -> int:
    wanted = _needed(size, renditions, REDUCING_GAP, orientation)
    return max(1, min(size[0] // wanted[0], size[1] // wanted[1]))


def _opened_for(data: bytes, renditions: Renditions) -> Image.Image:
    """The first frame, opened and drafted: a JPEG decodes at the smallest DCT scale that
    still covers every size (its scaling filters as it goes, so no gap is needed)."""
    image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    try:
        _check_geometry(*image.size, image.format or "")
        image.seek(0)
        # The orientation is read from the headers (nothing is decoded yet), so the widths
        # are kept along the edge that is the width once upright.
        image.draft("RGB", _needed(image.size, renditions, 1, _orientation(image)))
    except BaseException:
        image.close()
        raise
    return image


def _orientation(image: Image.Image) -> object:
    return image.getexif().get(ORIENTATION_TAG)


def render_cost(data: bytes, renditions: Renditions) -> int:
    """Pixels ``render`` holds at once for ``data``, from its headers alone: the decoded
    image, and the widths it makes from it (kept until the sizes are made from them)."""
    with _opened_for(data, renditions) as image:
        width, height = image.size
        if _orientation(image) in QUARTER_TURNS:
            width, height = height, width
        widths = widths_for(width, renditions.widths) if renditions.widths else []
        made = sum(kept * max(1, round(height * kept / width)) for kept in widths)
        return _decode_cost(image) + made


def _target_mode(image: Image.Image) -> str:
    transparent = image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
    if transparent:
        return "RGBA"
    return image.mode if image.mode in {"L", "RGB"} else "RGB"


def _reduced_copy(image: Image.Image, factor: int, mode: str) -> Image.Image:
    """A new image (so no metadata comes along) in ``mode``, ``factor`` times smaller, made a
    band of rows at a time: the only full-size image is the decoded one, never a converted
    copy of it (a palette PNG would otherwise grow fourfold on its way to RGBA)."""
    width, height = image.size
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        if band.mode != mode:
            band = band.convert(mode)
        if factor > 1:
            band = band.reduce(factor)  # box average; LANCZOS finishes from 2x the size
        reduced.paste(band, (0, top // factor))
    return reduced


def _prepared(data: bytes, renditions: Renditions) -> tuple[Image.Image, bytes | None]:
    """The first frame, upright, in RGB, RGBA or L, reduced to what the sizes need, with the
    ICC profile when it still describes the pixels. No other metadata survives: the pixels
    are copied into a new image."""
    with _opened_for(data, renditions) as image:
        image.load()
        orientation = _orientation(image)
        icc = image.info.get("icc_profile")
        if image.mode not in {"RGB", "RGBA", "L", "LA", "P", "PA"}:
            # A CMYK or 16-bit profile does not describe the converted pixels.
            icc = None
        mode = _target_mode(image)
        factor = _reduce_factor(image.size, renditions, orientation)
        prepared = _reduced_copy(image, factor, mode)
    # The decoded image is released here; what follows works on the reduced copy.
    if orientation in EXIF_TRANSPOSES:
        prepared = prepared.transpose(EXIF_TRANSPOSES[orientation])
    return prepared, icc if isinstance(icc, bytes) else None


def _encode(image: Image.Image, icc: bytes | None) -> tuple[bytes, str, str]:
    """JPEG for opaque images, WebP for those with transparency; no metadata but ICC."""
    buffer = io.BytesIO()
    image.info = {}
    extra = {"icc_profile": icc} if icc else {}
    if image.mode == "RGBA":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, **extra)
        return buffer.getvalue(), "webp", "image/webp"
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, **extra)
    return buffer.getvalue(), "jpg", "image/jpeg"


def widths_for(source_width: int, widths: tuple[int, ...]) -> list[int]:
    """The widths to store of an image ``source_width`` wide: those of ``widths`` it
    covers, never enlarged, and its own width when it is narrower than the widest, so the
    sharpest copy there can be is always among them."""
    kept = [width for width in widths if width <= source_width]
    if source_width < max(widths) and source_width not in kept:
        kept.append(source_width)
    return kept


def _variants(
    image: Image.Image, widths: tuple[int, ...], icc: bytes | None
) -> tuple[list[Variant], dict[str, bytes], list[Image.Image]]:
    """The widths, each made from the next wider one (LANCZOS over at most a factor of three
    loses nothing visible, and costs a fraction of starting from the source each time);
    with their images, narrowest first."""
    variants: list[Variant] = []
    files: dict[str, bytes] = {}
    made: list[Image.Image] = []
    source = image
    for width in sorted(widths_for(image.width, widths), reverse=True):
        height = max(1, round(image.height * width / image.width))
        if (width, height) != source.size:
            source = source.resize((width, height), Image.Resampling.LANCZOS)
        files[f"w{width}.{RENDITION_FORMAT}"] = _encode_webp(source, icc)
        variants.append(Variant(width, height, RENDITION_FORMAT))
        made.append(source)
    return variants[::-1], files, made[::-1]


def _covers(candidate: Image.Image, image: Image.Image, renditions: Renditions) -> bool:
    """Whether the sizes can be made from ``candidate``, a reduced ``image``, as well as
    from ``image`` itself: it keeps each edge the sizes need, or all of the image's."""
    long_edge, short_edge = max(candidate.size), min(candidate.size)
    return long_edge >= min(renditions.long_edge, max(image.size)) and short_edge >= min(
        renditions.short_edge, min(image.size)
    )


def _encode_webp(image: Image.Image, icc: bytes | None) -> bytes:
    buffer = io.BytesIO()
    image.info = {}
    extra = {"icc_profile": icc} if icc else {}
    image.save(buffer, "WEBP", quality=RENDITION_WEBP_QUALITY, **extra)
    return buffer.getvalue()


def blurhash_of(image: Image.Image) -> str:
    """The BlurHash of ``image``, from a copy at most BLURHASH_SAMPLE_EDGE_PX on its longer
    edge; transparent parts count as white, the page's background."""
    sample = image.copy()
    sample.thumbnail((BLURHASH_SAMPLE_EDGE_PX, BLURHASH_SAMPLE_EDGE_PX), Image.Resampling.BOX)
    if sample.mode != "RGB":
        flat = Image.new("RGB", sample.size, (255, 255, 255))
        flat.paste(sample.convert("RGBA"), mask=sample.convert("RGBA"))
        sample = flat
    width, height = sample.size
    pixels = list(sample.get_flattened_data())
    rows = [pixels[top : top + width] for top in range(0, width * height, width)]
    along, across = BLURHASH_COMPONENTS
    x, y = (along, across) if width >= height else (across, along)
    return blurhash.encode(rows, components_x=x, components_y=y)


def render(data: bytes, renditions: Renditions) -> Rendered:
    """Every size of ``renditions``, encoded. Holds ``render_cost(data)`` decoded pixels."""
    image, icc = _prepared(data, renditions)
    files: dict[str, bytes] = {}
    variants: list[Variant] = []
    made = [image]
    if renditions.widths:
        variants, files, made = _variants(image, renditions.widths, icc)
    # The sizes come from the widest width when it keeps what they need, so the full
    # image is resized once rather than once for each.
    source = made[-1] if _covers(made[-1], image, renditions) else image
    extension, content_type = RENDITION_FORMAT, "image/webp"
    dimensions = image.size
    for index, (name, resize) in enumerate(renditions.sizes.items()):
        resized = resize(source)
        if index == 0:  # the first size is the one whose dimensions pages declare
            dimensions = resized.size
        encoded, extension, content_type = _encode(resized, icc)
        files[f"{name}.{extension}"] = encoded
    hashed = blurhash_of(made[0]) if renditions.blurhash else None
    return Rendered(
        extension, content_type, dimensions[0], dimensions[1], files, tuple(variants), hashed
    )


def _contained(edge: int) -> Callable[[Image.Image], Image.Image]:
    def resize(image: Image.Image) -> Image.Image:
        copy = image.copy()
        copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)  # never enlarges
        return copy

    return resize


def _square(edge: int) -> Callable[[Image.Image], Image.Image]:
    def resize(image: Image.Image) -> Image.Image:
        return ImageOps.fit(image, (edge, edge), Image.Resampling.LANCZOS)

    return resize


# A post photo: ``display`` (longest edge 1080 px) and ``thumb`` (320 px square), the
# widths for srcset, and its BlurHash.
PHOTO = Renditions(
    DISPLAY_EDGE_PX,
    THUMB_EDGE_PX,
    {"display": _contained(DISPLAY_EDGE_PX), "thumb": _square(THUMB_EDGE_PX)},
    PHOTO_WIDTHS_PX,
    blurhash=True,
)
# The widths and BlurHash alone, made from a photo's display size for a photo processed
# before they existed (its original is gone by then; the display size is the best copy left).
PHOTO_WIDTHS = Renditions(1, 1, {}, PHOTO_WIDTHS_PX, blurhash=True)
# An avatar: squares of 400 and 64 px.
AVATAR = Renditions(
    AVATAR_EDGES_PX[0], AVATAR_EDGES_PX[0], {str(edge): _square(edge) for edge in AVATAR_EDGES_PX}
)


def render_photo(data: bytes) -> Rendered:
    return render(data, PHOTO)


def render_avatar(data: bytes) -> Rendered:
    return render(data, AVATAR)
