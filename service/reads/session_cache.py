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

from service.reads.announced_cache import MAX_ENTRIES, AnnouncedCache
from service.reads.views import SessionUser


class SessionCache(AnnouncedCache[SessionUser]):
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(lambda user: user.id, max_entries)

    def put(
        self, session_hash: bytes, user: SessionUser, expires_at: datetime, generation: int
    ) -> None:
        """Remember a lookup made when the generation was ``generation``, until the session
        expires at the latest."""
        self._remember(session_hash, user, generation, expires_at.timestamp() - time.time())

    def session_ended(self, session_hash: bytes) -> None:
        self.forget(session_hash)
