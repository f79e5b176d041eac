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

from service.reads.announced_cache import ENTRY_SECONDS, MAX_ENTRIES, AnnouncedCache
from service.reads.views import TokenGrant


class TokenCache(AnnouncedCache[TokenGrant]):
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(lambda grant: grant.user.id if grant.user else None, max_entries)

    def put(self, token_hash: bytes, grant: TokenGrant, generation: int) -> None:
        """Remember a lookup made when the generation was ``generation``."""
        self._remember(token_hash, grant, generation, ENTRY_SECONDS)

    def revoked(self, token_hash: bytes) -> None:
        self.forget(token_hash)
