"""A local Tastytrade API sandbox: the real protocol, demo books, fault injection.

Framework-free. Start it in-process with ``start_sandbox(port=0)`` or as a
process with ``python -m brokers.tastytrade.sandbox``; both run the same code.
"""

from brokers.tastytrade.sandbox.config import (
    CONTROL_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    SandboxConfig,
)
from brokers.tastytrade.sandbox.faults import FAULT_KINDS, FaultRule
from brokers.tastytrade.sandbox.request_log import LoggedRequest
from brokers.tastytrade.sandbox.server import Sandbox, start_sandbox

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URIS",
    "FAULT_KINDS",
    "FaultRule",
    "LoggedRequest",
    "Sandbox",
    "SandboxConfig",
    "start_sandbox",
]
