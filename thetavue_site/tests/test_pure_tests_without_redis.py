"""Pure tests (no database, no cache) run with Redis unreachable.

The autouse cache-clearing fixture in conftest.py talks to Redis only after a
test that may have written keys, so the math and parsing suites do not need it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _pytest(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": UNREACHABLE_REDIS}
    return subprocess.run(  # noqa: S603 - this interpreter's pytest on files of this repo
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_symbol_parsing_tests_pass_with_redis_unreachable():
    result = _pytest("portfolios/tests/test_symbols.py")

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
