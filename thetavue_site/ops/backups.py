"""pg_dump / pg_restore under forced Row Level Security (DESIGN.md §13).

With DATABASE_MAINTENANCE_URL (a BYPASSRLS role) the tools connect as that
role. Otherwise they connect as the application role with `app.service=on`,
`--enable-row-security` and INSERT-format data, since COPY FROM is refused on
RLS tables.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.utils import timezone

BACKUP_PREFIX = "thetavue-"
BACKUP_SUFFIX = ".dump"


class BackupError(Exception):
    """pg_dump or pg_restore failed; the message carries their stderr."""


@dataclass(frozen=True)
class Target:
    url: str
    maintenance: bool


def _tool(name: str) -> str:
    try:
        from thetavue_site.devservices import pg_bin_dir

        candidate = pg_bin_dir() / name
        if candidate.exists():
            return str(candidate)
    except Exception:  # noqa: BLE001,S110 - the embedded wheel is optional in production
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found; install the PostgreSQL client tools")
    return found


def _environment(url: str, maintenance: bool) -> dict[str, str]:
    parsed = urlparse(url)
    env = {
        **os.environ,
        "PGHOST": parsed.hostname or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": unquote(parsed.username or ""),
        "PGDATABASE": parsed.path.lstrip("/"),
    }
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
    if not maintenance:
        env["PGOPTIONS"] = "-c app.service=on"
    return env


def default_target() -> Target:
    if settings.DATABASE_MAINTENANCE_URL:
        return Target(settings.DATABASE_MAINTENANCE_URL, maintenance=True)
    return Target(settings.DATABASE_URL, maintenance=False)


def restore_target() -> Target:
    """Restore creates tables, which the owner role must own: never the application role."""
    if settings.DATABASE_MAINTENANCE_URL:
        return Target(settings.DATABASE_MAINTENANCE_URL, maintenance=True)
    return Target(settings.DATABASE_OWNER_URL or settings.DATABASE_URL, maintenance=False)


def backup_create(*, directory: Path, target: Target | None = None, keep: int = 14) -> Path:
    """Dump the database into `directory` (custom format) and prune old dumps to `keep`."""
    target = target or default_target()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"
    args = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"]
    if not target.maintenance:
        args += ["--enable-row-security", "--inserts"]
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments we build
        args,
        env=_environment(target.url, target.maintenance),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(result.stderr.strip())
    backups_prune(directory=directory, keep=keep)
    return path


def backups_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dumps; return what was deleted."""
    dumps = sorted(directory.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))
    stale = dumps[:-keep] if keep > 0 else dumps
    for path in stale:
        path.unlink()
    return stale


def backup_restore(*, path: Path, target: Target | None = None) -> None:
    """Restore a dump into the target database (expected empty or freshly created)."""
    target = target or restore_target()
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    args = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    env = _environment(target.url, target.maintenance)
    if not target.maintenance:
        args.append("--enable-row-security")
    args += ["--dbname", env["PGDATABASE"], str(path)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(result.stderr.strip())


def backup_age(path: Path) -> dt.timedelta:
    return timezone.now() - dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
