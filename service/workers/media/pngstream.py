"""Verifying a PNG without decoding it: what Pillow's decoder would refuse (data cut short,
corrupt compressed data, missing scanlines, an unknown filter type) is found by inflating the
image data a piece at a time and walking the scanlines' filter bytes, so the memory it takes
is one piece of inflated data, whatever the image's size. It costs the CPU time of inflating
the data, half to three quarters of decoding it: call it in an executor."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO


class Damaged(ValueError):
    """The PNG's image data cannot be decoded."""


# PNG colour types: samples a pixel has.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: first column, first row, column step, row step.
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
READ_BYTES = 64 * 1024
INFLATE_BYTES = 256 * 1024
MAX_FILTER = 4


def _row_lengths(source: BinaryIO) -> Iterator[int]:
    """The length of each scanline of the first image, its filter byte included, in order."""
    source.seek(8 + 8)  # the signature, then IHDR's length and type
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", source.read(13))
    bits = CHANNELS[colour] * depth
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    for column, row, column_step, row_step in passes:
        columns = -(-(width - column) // column_step) if width > column else 0
        rows = -(-(height - row) // row_step) if height > row else 0
        if columns and rows:
            yield from itertools.repeat(1 + (columns * bits + 7) // 8, rows)


def _inflated(source: BinaryIO) -> Iterator[bytes]:
    """The first image's decompressed data, in pieces of at most INFLATE_BYTES."""
    source.seek(8)
    inflater = zlib.decompressobj()
    seen = False
    while len(header := source.read(8)) == 8:
        length, kind = struct.unpack(">I4s", header)
        if kind != b"IDAT":
            if seen or kind == b"IEND":
                break  # the image's data is one run of IDAT chunks
            source.seek(length + 4, io.SEEK_CUR)
            continue
        seen = True
        left = length
        while left and (data := source.read(min(left, READ_BYTES))):
            left -= len(data)
            while data and not inflater.eof:
                if piece := inflater.decompress(data, INFLATE_BYTES):
                    yield piece
                data = inflater.unconsumed_tail
        source.seek(4, io.SEEK_CUR)  # CRC: Pillow does not check it on IDAT either
    if tail := inflater.flush():
        yield tail


def verify(source: BinaryIO) -> None:
    """Raise ``Damaged`` for what Pillow's decoding of the PNG in ``source`` (already opened
    by Pillow, so its signature and header chunk are sound) would refuse."""
    lengths = list(_row_lengths(source))
    total = sum(lengths)
    starts = itertools.accumulate(lengths, initial=0)
    upcoming = next(starts)
    position = 0
    for piece in _inflated(source):
        end = position + len(piece)
        while upcoming < min(end, total):
            if piece[upcoming - position] > MAX_FILTER:
                raise Damaged
            upcoming = next(starts)
        position = end
        if position >= total:
            return
    raise Damaged
