"""Password hashing with argon2id, off the event loop.

Parameters are OWASP's minimum for argon2id (m=19 MiB, t=2, p=1; OWASP Password Storage Cheat
Sheet); hashes made with weaker parameters are upgraded at the next successful login.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


class Passwords:
    """Hashes and verifies passwords; the CPU work runs in a worker thread."""

    def __init__(
        self,
        memory_cost: int = MEMORY_COST_KIB,
        time_cost: int = TIME_COST,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._dummy_hash: str | None = None
        self.hashes = 0
        """Hashes made so far: tests see that every path of registration pays for one."""
        self.dummy_verifications = 0
        """Verifications against the dummy hash so far: tests see that an unknown login pays
        the same argon2 price as a wrong password, without timing anything."""

    async def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` in PHC string format."""
        self.hashes += 1
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, burns the same time and says no.

        Verifying against a dummy hash for unknown logins keeps the response time from telling
        whether a login exists.
        """
        if password_hash is None:
            self.dummy_verifications += 1
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(
                    self._hasher.hash, "dummy password for timing"
                )
            password_hash = self._dummy_hash
            password = password + "\0"
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with parameters below the current ones."""
        return self._hasher.check_needs_rehash(password_hash)
