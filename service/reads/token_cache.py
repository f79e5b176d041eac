"""What each bearer token grants, remembered by each process between requests, exactly as
reads/session_cache.py remembers sessions (read that first): apps send the same token with
every request, and looking it up would double the cost of a timeline.

It forgets a token the moment the database announces its revocation (a trigger on
access_tokens, migration 0010), every token of a user whose name, email, role,
confirmation or suspension changed (the users trigger of 0008), and everything while the
live listener is not connected. Requests that may change something always ask the
database (web/auth.py), so no write is ever made with a revoked token.
"""

from __future__ import annotations

import time

from service.reads.views import TokenGrant

# The longest an entry is trusted without a word from the database, as for sessions.
ENTRY_SECONDS = 60.0
# Past this many tokens, the oldest entries go first.
MAX_ENTRIES = 50_000


class TokenCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[bytes, tuple[TokenGrant, float]] = {}
        self._by_user: dict[int, set[bytes]] = {}
        self._max_entries = max_entries
        self._listening = False
        self.generation = 0

    def get(self, token_hash: bytes) -> TokenGrant | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        grant, until = entry
        if time.monotonic() >= until:
            self._drop(token_hash)
            return None
        return grant

    def put(self, token_hash: bytes, grant: TokenGrant, generation: int) -> None:
        """Remember a lookup made when the generation was ``generation`` (a lookup that
        raced an announcement is not remembered)."""
        if not self._listening or generation != self.generation:
            return
        if len(self._entries) >= self._max_entries:
            self._drop(next(iter(self._entries)))
        self._entries[token_hash] = (grant, time.monotonic() + ENTRY_SECONDS)
        if grant.user is not None:
            self._by_user.setdefault(grant.user.id, set()).add(token_hash)

    def _drop(self, token_hash: bytes) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is not None and entry[0].user is not None:
            hashes = self._by_user.get(entry[0].user.id)
            if hashes is not None:
                hashes.discard(token_hash)
                if not hashes:
                    del self._by_user[entry[0].user.id]

    def revoked(self, token_hash: bytes) -> None:
        self.generation += 1
        self._drop(token_hash)

    def user_changed(self, user_id: int) -> None:
        self.generation += 1
        for token_hash in list(self._by_user.get(user_id, ())):
            self._drop(token_hash)

    def listening(self, connected: bool) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()
        self._listening = connected

    def __len__(self) -> int:
        return len(self._entries)
