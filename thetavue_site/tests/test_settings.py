"""A missing or malformed setting stops the boot with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings


def run_check(**env) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SNAPSHOT_TIME": "25:99"}, "SNAPSHOT_TIME"),
        ({"RISK_FREE_RATE": "four percent"}, "RISK_FREE_RATE"),
        ({"SYNC_INTERVAL_MINUTES": "0"}, "SYNC_INTERVAL_MINUTES"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql://x@localhost/db"}, "DATABASE_URL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"DATABASE_URL": "postgres://u@localhost/db?server_side_binding=true"}, "DATABASE_URL"),
        (
            {
                "DATABASE_URL": "postgres://app@localhost/db",
                "DATABASE_OWNER_URL": "postgres://owner@localhost/other",
            },
            "DATABASE_OWNER_URL",
        ),
        (
            {
                "DATABASE_URL": "postgres://app@localhost/db",
                "DATABASE_OWNER_URL": "postgres://app@localhost/db",
            },
            "DATABASE_OWNER_URL",
        ),
        (
            {
                "DATABASE_URL": "postgres://app@localhost/db",
                "DATABASE_OWNER_URL": "mysql://owner@localhost/db",
            },
            "DATABASE_OWNER_URL",
        ),
    ],
)
def test_bad_setting_gives_one_line_naming_it(env, named):
    result = run_check(**env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_production_needs_encryption_keys_besides_a_real_secret():
    result = run_check(DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="thetavue.example")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    from cryptography.fernet import Fernet

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "k" * 20 + "-production-secret-for-the-check-" + "z" * 20,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "thetavue.example",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
