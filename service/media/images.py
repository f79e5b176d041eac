"""Pillow work: checking that an uploaded file is an image we accept, and rendering the
sizes we serve. Everything here is CPU-bound and blocking: call it in an executor.

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

from PIL import Image, ImageOps

# What a client may upload; Pillow is never asked to try its other decoders (PSD, EPS, ...).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Phones write multi-picture JPEGs (a photo plus a preview or depth map): still a JPEG.
FORMAT_ALIASES = {"MPO": "JPEG"}
# 40 megapixels: above every common phone (12-24 MP by default) and most cameras, while a
# decoded image stays under ~160 MB (RGBA) per executor thread.
MAX_PIXELS = 40_000_000
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

DISPLAY_EDGE_PX = 1080
THUMB_EDGE_PX = 320
AVATAR_EDGES_PX = (400, 64)
JPEG_QUALITY = 85
WEBP_QUALITY = 85

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
    """The file is not an image we accept; ``status`` is the HTTP answer (415 or 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Checked:
    format: str
    width: int
    height: int


@dataclasses.dataclass(frozen=True)
class Rendered:
    """Encoded renditions by name (``display``, ``thumb``, ``400``...), all in one format."""

    extension: str
    content_type: str
    width: int
    height: int
    files: dict[str, bytes]


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


def _check_geometry(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise Rejected(422, "The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise Rejected(
            422,
            f"The image is {width}×{height} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels.",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise Rejected(422, f"The image is too long and narrow (more than 1:{MAX_ASPECT_RATIO}).")


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
        raise Rejected(415, "That file is not a JPEG, PNG, WebP or GIF image.") from error


def check(path: Path, declared: str | None = None) -> Checked:
    """Open, measure and fully decode the first frame of the file at ``path``."""
    with path.open("rb") as source:
        image = _open(source)
        with image:
            kind = FORMAT_ALIASES.get(image.format or "", image.format or "")
            if declared is not None and declared != kind:
                raise Rejected(415, f"The file's name or type does not match its content ({kind}).")
            width, height = image.size
            _check_geometry(width, height)
            try:
                if _frame_count(image, source) > MAX_FRAMES:
                    raise Rejected(422, f"Animations are limited to {MAX_FRAMES} frames.")
                image.seek(0)
                # A reduced-scale decode (JPEG only) still reads every byte of the file, so a
                # truncated or damaged file fails here, at a fraction of the cost.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
            except Rejected:
                raise
            except Exception as error:  # Pillow signals damage with many exception types
                raise Rejected(
                    422, "The image is damaged or incomplete. Try exporting it again."
                ) from error
    return Checked(kind, width, height)


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


def _prepared(data: bytes, draft_edge: int) -> tuple[Image.Image, bytes | None]:
    """The first frame, upright, in RGB, RGBA or L, with the ICC profile when it still
    describes the pixels. No other metadata survives: the pixels are copied into a new
    image."""
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        _check_geometry(*image.size)
        image.seek(0)
        image.draft("RGB", (draft_edge, draft_edge))
        image.load()
        upright = ImageOps.exif_transpose(image)
    icc = upright.info.get("icc_profile")
    transparent = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    if transparent:
        target = "RGBA"
    elif upright.mode in {"L", "RGB"}:
        target = upright.mode
    else:
        target = "RGB"
    if upright.mode not in {"RGB", "RGBA", "L", "LA", "P", "PA"}:
        # A CMYK or 16-bit profile does not describe the converted pixels.
        icc = None
    converted = upright.convert(target)
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    return clean, icc if isinstance(icc, bytes) else None


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


def _render(data: bytes, draft_edge: int, sizes: dict[str, Callable]) -> Rendered:
    image, icc = _prepared(data, draft_edge)
    files: dict[str, bytes] = {}
    extension = content_type = ""
    dimensions = image.size
    for name, resize in sizes.items():
        resized = resize(image)
        if not files:  # the first size is the one whose dimensions pages declare
            dimensions = resized.size
        files[name], extension, content_type = _encode(resized, icc)
    return Rendered(extension, content_type, dimensions[0], dimensions[1], files)


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


def render_photo(data: bytes) -> Rendered:
    """A post photo: ``display`` (longest edge 1080 px) and ``thumb`` (320 px square)."""
    return _render(
        data,
        DISPLAY_EDGE_PX,
        {"display": _contained(DISPLAY_EDGE_PX), "thumb": _square(THUMB_EDGE_PX)},
    )


def render_avatar(data: bytes) -> Rendered:
    """An avatar: squares of 400 and 64 px."""
    return _render(
        data,
        AVATAR_EDGES_PX[0],
        {str(edge): _square(edge) for edge in AVATAR_EDGES_PX},
    )
