"""The sandbox's clock: real time plus an offset that tests move forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Wall-clock time shifted by a movable offset, so tokens expire on demand."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the sandbox's current instant, aware UTC."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back) by ``seconds``; return the new now."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (aware) and keep running from there."""
        if instant.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime")
        with self._lock:
            self._offset = instant - datetime.now(UTC)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset.total_seconds()
