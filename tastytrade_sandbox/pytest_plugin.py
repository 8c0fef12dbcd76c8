"""The Tastytrade sandbox for tests: one server per session, reset per test.

Loaded by the repository's conftest.py as a pytest plugin, so the product's
tests and the sandbox's own share one server. Framework-free: nothing here
touches the database, so broker client tests could run without Django.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tastytrade_sandbox import Sandbox, start_sandbox


@pytest.fixture(scope="session")
def tastytrade_sandbox_server() -> Iterator[Sandbox]:
    """Start one in-process sandbox on a free loopback port for the session."""
    sandbox = start_sandbox(host="127.0.0.1", port=0)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def tastytrade_sandbox(tastytrade_sandbox_server: Sandbox) -> Sandbox:
    """Return the sandbox with no faults, grants or log, at tick 0, real clock."""
    tastytrade_sandbox_server.reset()
    return tastytrade_sandbox_server
