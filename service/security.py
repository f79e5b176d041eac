"""Password hashing, random tokens and redirect-target checks."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import Executor
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.settings import SecuritySettings

TOKEN_BYTES = 32


class PasswordService:
    """Argon2id hashing on an executor: one hash costs ~50-150 ms of CPU, which would stall
    every other request if run on the event loop."""

    def __init__(self, settings: SecuritySettings, executor: Executor) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._executor = executor
        # Verifying against this when the account does not exist takes as long as a real
        # check, so response time does not reveal which logins exist.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and (
                stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """False for a wrong password and for ``stored_hash=None`` (unknown account), after
        the same amount of work."""
        return await self._run(self._verify, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to redirect to, or ``default``. Refuses absolute URLs, scheme-relative
    ``//host``, backslash tricks browsers read as ``//host``, and control characters."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return default
    if target.startswith(("//", "/\\")) or "\\" in target:
        return default
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
