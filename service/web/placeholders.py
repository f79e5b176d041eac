"""A photo's placeholder while it loads: its BlurHash (computed when the photo was
processed) decoded to a tiny PNG, as a data: URL the card stretches over the photo's box.

The page's Content-Security-Policy allows data: images but no inline style, so a
placeholder is an image rather than a CSS gradient. Decoding costs about a millisecond;
a feed shows the same photos again and again, so each process remembers the last few
thousand.
"""

from __future__ import annotations

import base64
import functools
import io

import blurhash
from PIL import Image

# The placeholder's longer edge in pixels: a hash of 4x3 components holds no more detail,
# and the browser's smoothing of a stretched image does the blurring. About 150 bytes.
PLACEHOLDER_EDGE_PX = 8
REMEMBERED_PLACEHOLDERS = 4096


@functools.lru_cache(maxsize=REMEMBERED_PLACEHOLDERS)
def placeholder_url(hashed: str, width: int, height: int) -> str | None:
    """A data: URL of ``hashed`` decoded at the shape of a ``width`` x ``height`` box, or None
    when it is not a BlurHash (a row edited by hand must not break a page)."""
    if width < 1 or height < 1:
        return None
    scale = PLACEHOLDER_EDGE_PX / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    try:
        rows = blurhash.decode(hashed, size[0], size[1])
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    image = Image.new("RGB", size)
    image.putdata([tuple(int(channel) for channel in pixel[:3]) for row in rows for pixel in row])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
