"""A per-process memory of session JWTs that already passed verification.

Clerk's SDK sends the same session token with every request for about a
minute, so an API client or a dashboard asks us to verify one token dozens of
times. Verifying it again would give the same answer — the bytes, the key and
our settings are unchanged — except for the clock. An entry therefore keeps
the verified claims and is answered only while `exp` (with the leeway) has not
passed, and for at most `MAX_AGE_SECONDS`, so a key withdrawn from the JWKS
stops being honoured at most that long after the JWKS cache drops it (Clerk's
session tokens expire after 60 s, which bounds it first).

Entries are keyed by a SHA-256 digest of the token, never the token itself
(a heap dump shows no bearer credentials), together with a fingerprint of the
settings that decided the verification: a changed key, issuer or authorized
party list misses the cache and is verified afresh.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 4096
MAX_AGE_SECONDS = 300


@dataclass(frozen=True)
class _Entry:
    config: Hashable
    claims: Mapping[str, Any]
    method: str
    valid_until: float


class VerifiedTokens:
    """A bounded, thread-safe LRU of verified tokens (one per process)."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, leeway_seconds: float = 0) -> None:
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._leeway = leeway_seconds

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(
        self, token: str, config: Hashable, *, now: float | None = None
    ) -> tuple[dict[str, Any], str] | None:
        """Return (a copy of the claims, method) while still valid, else None."""
        key = self.digest(token)
        now = time.time() if now is None else now
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.config != config or now >= entry.valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
        # A deep copy: nested claims (fva, o, act) are never shared between requests.
        return copy.deepcopy(dict(entry.claims)), entry.method

    def put(
        self,
        token: str,
        config: Hashable,
        claims: Mapping[str, Any],
        method: str,
        *,
        now: float | None = None,
    ) -> None:
        """Remember a token that just passed full verification."""
        now = time.time() if now is None else now
        # PyJWT refuses once exp <= now - leeway: the entry ends at that instant.
        # PyJWT compares int(exp): a fractional exp must not buy a second more.
        valid_until = min(int(claims["exp"]) + self._leeway, now + MAX_AGE_SECONDS)
        entry = _Entry(
            config=config,
            claims=copy.deepcopy(dict(claims)),
            method=method,
            valid_until=valid_until,
        )
        key = self.digest(token)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
