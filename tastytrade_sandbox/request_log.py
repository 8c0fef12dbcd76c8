"""The sandbox's request log: what arrived and what was answered, redacted."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tastytrade_sandbox.wire import iso

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-tastyworks-otp"})
SECRET_PARAMS = frozenset({"code", "refresh_token", "client_secret", "access_token"})
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None  # None: no answer was sent (hang, dropped connection)
    headers: dict[str, str]  # secrets redacted; "Bearer [redacted]" keeps the scheme
    at: datetime  # sandbox clock
    fault: str | None  # the replacing or modifying fault kinds that fired

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "headers": self.headers,
            "at": iso(self.at),
            "fault": self.fault,
        }


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        redacted[name] = value
    return redacted


def redact_query(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {
        key: [REDACTED] * len(values) if key in SECRET_PARAMS else list(values)
        for key, values in query.items()
    }


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            del self._entries[:-MAX_ENTRIES]

    def entries(self, *, path: str | None = None, method: str | None = None) -> list[LoggedRequest]:
        """Return entries, oldest first; ``path`` matches a prefix."""
        with self._lock:
            entries = list(self._entries)
        return [
            entry
            for entry in entries
            if (path is None or entry.path.startswith(path))
            and (method is None or entry.method == method.upper())
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries = []
