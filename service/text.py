"""Rules for user-supplied text shared by pages, API and domain functions."""

from __future__ import annotations


def has_forbidden_characters(value: str, *, allow_newlines: bool = False) -> bool:
    """NUL and other control characters have no place in user text (PostgreSQL rejects NUL
    outright). Tabs are allowed everywhere, newlines only where asked for."""
    allowed = "\t\r\n" if allow_newlines else "\t"
    return any((ord(char) < 0x20 and char not in allowed) or ord(char) == 0x7F for char in value)
