"""Sandbox settings with development defaults that match ThetaVue's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_SEED = 20260302
DEFAULT_CLIENT_ID = "thetavue-sandbox"
DEFAULT_CLIENT_SECRET = "thetavue-sandbox-secret"  # noqa: S105 - public demo value
DEFAULT_REDIRECT_URIS = (
    "http://127.0.0.1:8000/api/tastytrade/callback",
    "http://localhost:8000/api/tastytrade/callback",
)
STANDALONE_TICK_SECONDS = 60.0
ACCESS_TOKEN_SECONDS = 900
AUTHORIZATION_CODE_SECONDS = 300
DEFAULT_HANG_SECONDS = 30.0
CONTROL_PREFIX = "/__sandbox__"


@dataclass(frozen=True)
class SandboxConfig:
    """What makes one sandbox world: same config and tick, same answers."""

    seed: int = DEFAULT_SEED
    # New York date the book is built around; None means "today" when built.
    market_date: date | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = field(default=DEFAULT_REDIRECT_URIS)
    # Wall-clock seconds per market tick; None means ticks move only on request.
    tick_seconds: float | None = None
    greeks_in_quotes: bool = True  # the undocumented option-quote greek fields
    hang_seconds: float = DEFAULT_HANG_SECONDS  # how long a "hang" fault holds
