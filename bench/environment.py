"""The benchmark's own world: a dedicated database, Redis db, keys and settings.

Everything here runs before Django is imported: settings read the environment
once, so the bench sets it first. The developer's database is never touched:
the bench works in ``bench_thetavue`` (created and migrated by the owner role
of DATABASE_OWNER_URL, which has CREATEDB) and wipes only that database's
tenant rows, as the owner; everything measured runs as the application role. Redis is the
same server on its own database number, so the cache, the Celery queue and
its unacked set are private too.

Settings are production's (DEBUG off, so no query log and no debug toolbar
costs) with throwaway secrets, and Clerk verification in PEM mode with a key
generated per run: the API is measured with real RS256 JWT checks.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = os.environ.get("BENCH_DATABASE_NAME", "bench_thetavue")
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "11"))
CLERK_ISSUER = "https://clerk.bench.invalid"


@dataclass(frozen=True)
class BenchEnvironment:
    database_url: str  # the bench database, as the application role
    admin_database_url: str  # the database CREATE DATABASE runs from (as the owner)
    redis_url: str
    celery_queue: str
    clerk_private_pem: bytes  # signs the bench's session JWTs
    embedded: bool  # the servers are devservices' (restartable), not the developer's URLs


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _base_urls() -> tuple[str, str, str, bool]:
    """Return the developer's DATABASE_URL, DATABASE_OWNER_URL and REDIS_URL.

    Embedded servers are started for the ones that are unset.
    """
    database_url = os.environ.get("DATABASE_URL", "")
    owner_url = os.environ.get("DATABASE_OWNER_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    embedded = not database_url or not redis_url
    if embedded:
        from thetavue_site import devservices

        if not database_url:
            state = devservices.ensure_database()
            database_url, owner_url = state.database_url, owner_url or state.owner_url
        if not redis_url:
            redis_url = devservices.ensure_redis().redis_url
    return database_url, owner_url or database_url, redis_url, embedded


def _clerk_keys() -> tuple[bytes, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem.decode()


def configure() -> BenchEnvironment:
    """Point this process (and the processes it starts) at the bench's world."""
    base_database_url, base_owner_url, base_redis_url, embedded = _base_urls()
    database_url = _with_path(base_database_url, f"/{BENCH_DATABASE}")
    owner_url = _with_path(base_owner_url, f"/{BENCH_DATABASE}")
    redis_url = _with_path(base_redis_url, f"/{BENCH_REDIS_DB}")
    private_pem, public_pem = _clerk_keys()
    from cryptography.fernet import Fernet

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            **({"DATABASE_OWNER_URL": owner_url} if owner_url != database_url else {}),
            "REDIS_URL": redis_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "CLERK_ISSUER": CLERK_ISSUER,
            "CLERK_JWT_KEY": public_pem,
            "CLERK_JWKS_URL": "",
            "CLERK_AUTHORIZED_PARTIES": "",
            "THETAVUE_CACHE_PREFIX": "tvbench",
            "CELERY_QUEUE": queue,
            "LOG_FORMAT": "json",
            "SENTRY_DSN": "",
            "DJANGO_SETTINGS_MODULE": "thetavue_site.settings",
        }
    )
    return BenchEnvironment(
        database_url=database_url,
        admin_database_url=base_owner_url,
        redis_url=redis_url,
        celery_queue=queue,
        clerk_private_pem=private_pem,
        embedded=embedded,
    )


def ensure_database(env: BenchEnvironment) -> None:
    """Create the bench database if it is missing (as the owner role)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(env.admin_database_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DATABASE)))


def migrate_and_wipe() -> None:
    """Bring the bench schema up to date and empty every tenant table."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    wipe()


def wipe() -> None:
    """Empty every tenant table of the bench database."""
    from django.db import connection

    from thetavue_site import db_roles

    with db_roles.as_owner(), connection.cursor() as cursor:
        # Only the owner may TRUNCATE (it skips RLS); CASCADE follows every
        # foreign key to users.
        cursor.execute("TRUNCATE users RESTART IDENTITY CASCADE")


def ensure_up(env: BenchEnvironment) -> None:
    """Make sure the servers are up before a benchmark and the connection still works.

    A parallel `make test` stops the shared embedded servers on exit; restart
    them and drop a database connection that did not survive it.
    """
    if env.embedded:
        from thetavue_site import devservices

        devservices.ensure_database()
        devservices.ensure_redis()
    from django.db import connection

    if connection.connection is not None and not connection.is_usable():
        connection.close()
