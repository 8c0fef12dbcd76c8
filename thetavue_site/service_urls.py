"""Service URLs as each client library wants them (read by settings.py at boot).

- Celery's Redis transport does not read redis-py's `unix:///path?db=N`
  form (every enqueue then fails with a KeyError); its own spelling is
  `redis+socket:///path?virtual_host=N`, for the broker and the result
  backend alike.
- A PostgreSQL URL may name a Unix socket directory as a percent-encoded
  host (`postgres://u:p@%2Frun%2Fpostgresql/db`, as libpq documents);
  django-environ leaves it encoded.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit


def celery_redis_url(url: str) -> str:
    """Return `url` in the form Celery's Redis transport reads; raise ValueError if unusable."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    if not parts.path or parts.netloc:
        raise ValueError("a unix:// URL is unix:///path/to/redis.sock[?db=N]")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"db"}:
        raise ValueError("a unix:// URL takes only ?db=N (use redis:// for other options)")
    db = query.get("db", ["0"])[-1]
    if not (db.isascii() and db.isdigit()):
        raise ValueError("db must be a whole number")
    return f"redis+socket://{parts.path}?virtual_host={int(db)}"


def decode_socket_host(host: str) -> str:
    """Return a database HOST with percent-encoding undone (`%2Frun%2Fpostgresql`)."""
    return unquote(host) if "%" in host else host
