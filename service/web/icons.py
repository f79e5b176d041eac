"""An icon of the sprite (static/icons.svg): the one markup templates (``icon('heart')``)
and the Python-written cards and tiles (service/web/cards.py) share."""

from __future__ import annotations


def icon_svg(sprite_url: str, name: str) -> str:
    """The icon ``name`` of the sprite at ``sprite_url``, drawn in the text's colour.
    Decorative (hidden from screen readers): what it means is always said in text beside
    it, visible or visually hidden."""
    return (
        '<svg class="icon" aria-hidden="true" focusable="false" width="24" height="24">'
        f'<use href="{sprite_url}#{name}"></use></svg>'
    )
