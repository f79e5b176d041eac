"""Per-process memory of lookups the database announces changes to: the sessions of
reads/session_cache.py and the bearer tokens of reads/token_cache.py (read the first for
why and how). One entry per key (a hash), forgotten when its key is announced as ended,
when its person changes, when its time is up, and all at once whenever the listener that
hears the announcements is not connected. A lookup that raced an announcement must not put
back what was just forgotten: ``put`` takes the generation read before asking the
database, and is ignored if anything was forgotten since."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

# The longest an entry is trusted without a word from the database: a bound on what a lost
# announcement could cost, not the way changes arrive.
ENTRY_SECONDS = 60.0
# Past this many entries, the oldest go first (dicts keep insertion order).
MAX_ENTRIES = 50_000

Value = TypeVar("Value")


class AnnouncedCache(Generic[Value]):
    def __init__(self, person_of: Callable[[Value], int | None], max_entries: int) -> None:
        self._person_of = person_of
        self._entries: dict[bytes, tuple[Value, float]] = {}
        self._by_person: dict[int, set[bytes]] = {}
        self._max_entries = max_entries
        self._listening = False
        self.generation = 0

    def get(self, key: bytes) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, until = entry
        if time.monotonic() >= until:
            self._drop(key)
            return None
        return value

    def _remember(self, key: bytes, value: Value, generation: int, seconds: float) -> None:
        if not self._listening or generation != self.generation:
            return
        if len(self._entries) >= self._max_entries:
            self._drop(next(iter(self._entries)))
        self._entries[key] = (value, time.monotonic() + min(ENTRY_SECONDS, seconds))
        person = self._person_of(value)
        if person is not None:
            self._by_person.setdefault(person, set()).add(key)

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key, None)
        person = None if entry is None else self._person_of(entry[0])
        keys = self._by_person.get(person) if person is not None else None
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_person[person]

    def forget(self, key: bytes) -> None:
        """The database announced that ``key`` no longer holds."""
        self.generation += 1
        self._drop(key)

    def user_changed(self, user_id: int) -> None:
        self.generation += 1
        for key in list(self._by_person.get(user_id, ())):
            self._drop(key)

    def listening(self, connected: bool) -> None:
        """The listener connected (again), or lost its connection: either way, what was
        remembered may have missed an announcement."""
        self.generation += 1
        self._entries.clear()
        self._by_person.clear()
        self._listening = connected

    def __len__(self) -> int:
        return len(self._entries)
