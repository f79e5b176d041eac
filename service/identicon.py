"""A small symmetric pixel avatar drawn from a hash, as SVG."""

from __future__ import annotations

GRID_CELLS = 5
CELL_PX = 10
# Room around the grid so a circular crop (avatars are round) never cuts a cell.
MARGIN_PX = 12


def identicon_svg(digest: str) -> str:
    """``digest``: 16 hex digits. The first 6 pick the colour, the rest fill the left half
    of a 5x5 grid, mirrored to the right."""
    value = int(digest, 16)
    hue = value % 360
    bits = value >> 12
    cells = []
    for row in range(GRID_CELLS):
        for column in range((GRID_CELLS + 1) // 2):
            if bits & 1:
                for x in {column, GRID_CELLS - 1 - column}:
                    cells.append(
                        f'<rect x="{x * CELL_PX}" y="{row * CELL_PX}" '
                        f'width="{CELL_PX}" height="{CELL_PX}"/>'
                    )
            bits >>= 1
    size = GRID_CELLS * CELL_PX
    box = size + 2 * MARGIN_PX
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-{MARGIN_PX} -{MARGIN_PX} {box} {box}">'
        f'<rect x="-{MARGIN_PX}" y="-{MARGIN_PX}" width="{box}" height="{box}" fill="#f0f2f5"/>'
        f'<g fill="hsl({hue}, 55%, 45%)">{"".join(cells)}</g></svg>'
    )
