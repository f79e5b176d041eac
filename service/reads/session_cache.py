"""Who is signed in, remembered by each process between requests.

Every request but the anonymous ones needs its session's user; looking it up is a second
round trip beside the page's own statement, which on a busy timeline costs as much as the
statement. So each process keeps what it looked up, and forgets it the moment the database
says it changed:

- A session that ends (logout, a password change or reset, suspension, a deleted account)
  is announced by a trigger on auth_sessions (migration 0005), and a change to what a
  SessionUser holds (name, email, role, confirmation, suspension) by a trigger on users
  (migration 0008), both from the changing transaction; the live listener (service/live.py)
  passes each one here.
- Only while that listener is connected is anything remembered: when it drops, everything
  is forgotten and every request asks the database until it is back.
- Requests that change something always ask the database (web/auth.py), so no write is ever
  made on a session that has ended. A read in another process may use the session for as
  long as the announcement takes to arrive, about a millisecond (docs/architecture.md).
- An entry also lapses when its session expires, and after ENTRY_SECONDS in any case.

A lookup that raced an announcement must not put back what was just forgotten: ``put``
takes the generation it read before asking the database, and is ignored if anything was
forgotten since.
"""

from __future__ import annotations

import time
from datetime import datetime

from service.reads.views import SessionUser

# The longest an entry is trusted without a word from the database: a bound on what a lost
# announcement could cost, not the way changes arrive.
ENTRY_SECONDS = 60.0
# Past this many sessions, the oldest entries go first (dicts keep insertion order).
MAX_ENTRIES = 50_000


class SessionCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[bytes, tuple[SessionUser, float]] = {}
        self._by_user: dict[int, set[bytes]] = {}
        self._max_entries = max_entries
        self._listening = False
        self.generation = 0

    def get(self, session_hash: bytes) -> SessionUser | None:
        entry = self._entries.get(session_hash)
        if entry is None:
            return None
        user, until = entry
        if time.monotonic() >= until:
            self._drop(session_hash)
            return None
        return user

    def put(
        self, session_hash: bytes, user: SessionUser, expires_at: datetime, generation: int
    ) -> None:
        """Remember a lookup made when the generation was ``generation``."""
        if not self._listening or generation != self.generation:
            return
        seconds_left = expires_at.timestamp() - time.time()
        until = time.monotonic() + min(ENTRY_SECONDS, seconds_left)
        if len(self._entries) >= self._max_entries:
            self._drop(next(iter(self._entries)))
        self._entries[session_hash] = (user, until)
        self._by_user.setdefault(user.id, set()).add(session_hash)

    def _drop(self, session_hash: bytes) -> None:
        entry = self._entries.pop(session_hash, None)
        if entry is not None:
            hashes = self._by_user.get(entry[0].id)
            if hashes is not None:
                hashes.discard(session_hash)
                if not hashes:
                    del self._by_user[entry[0].id]

    def session_ended(self, session_hash: bytes) -> None:
        self.generation += 1
        self._drop(session_hash)

    def user_changed(self, user_id: int) -> None:
        self.generation += 1
        for session_hash in list(self._by_user.get(user_id, ())):
            self._drop(session_hash)

    def listening(self, connected: bool) -> None:
        """The listener connected (again), or lost its connection: either way, what was
        remembered may have missed an announcement."""
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()
        self._listening = connected

    def __len__(self) -> int:
        return len(self._entries)
