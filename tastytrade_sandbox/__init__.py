"""A local Tastytrade API sandbox: the real protocol, demo books, fault injection.

Framework-free. Start it in-process with ``start_sandbox(port=0)`` or as a
process with ``python -m tastytrade_sandbox``; both run the same code.
"""

from tastytrade_sandbox.config import (
    CONTROL_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    SandboxConfig,
)
from tastytrade_sandbox.faults import FAULT_KINDS, FaultRule
from tastytrade_sandbox.request_log import LoggedRequest
from tastytrade_sandbox.server import Sandbox, start_sandbox

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
