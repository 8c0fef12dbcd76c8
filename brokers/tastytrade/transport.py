"""One keep-alive HTTP(S) connection to the broker, on the standard library's http.client.

A sync sends its requests one after the other to one host, so it needs one
connection and nothing else a pool offers. urllib3 (under requests) spent
most of a call's client CPU re-parsing and re-encoding the URL and building
its response object; http.client alone costs about half.

Transport failures raise ``TransportError`` with reason "timeout" or
"reset", as requests would classify them (a refused connection is a reset).
Retries are the caller's: nothing here retries or follows redirects.
"""

from __future__ import annotations

import functools
import http.client
import select
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH


class TransportError(Exception):
    """No complete answer arrived: ``reason`` is "timeout" or "reset"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive lookups (http.client's HTTPMessage)
    content: bytes


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate and host checks against the CA bundle requests uses; built once per process
    (loading the bundle costs milliseconds)."""
    return ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)


class Connection:
    """A keep-alive connection to one base URL, opened on first use and after a drop."""

    def __init__(self, base_url: str, timeout: tuple[float, float] | float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")  # a base URL may carry a path
        self.connect_timeout, self.read_timeout = (
            timeout if isinstance(timeout, tuple) else (timeout, timeout)
        )
        self._http: http.client.HTTPConnection | None = None

    def request(
        self, method: str, target: str, *, body: bytes | None, headers: dict[str, str]
    ) -> Reply:
        """Send one request (target = path and query) and read the whole answer."""
        try:
            connection = self._open()
            connection.request(method, self.prefix + target, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError:
            self.close()
            raise TransportError("timeout") from None
        except (OSError, http.client.HTTPException):
            # Refused, reset, TLS failure, a truncated body or status line.
            self.close()
            raise TransportError("reset") from None
        if response.will_close:
            self.close()
        return Reply(status_code=response.status, headers=response.headers, content=content)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _open(self) -> http.client.HTTPConnection:
        if self._http is not None and _dropped(self._http.sock):
            self.close()  # the server closed an idle keep-alive connection
        if self._http is None:
            self._http = self._connect()
        return self._http

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.connect_timeout, context=_tls_context()
            )
        else:
            connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.connect_timeout
            )
        connection.connect()
        # Headers and body may go out in two writes: no Nagle stall on keep-alive.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sock.settimeout(self.read_timeout)
        return connection


def _dropped(sock: socket.socket | None) -> bool:
    """Whether an idle connection was closed by the server (readable = EOF or junk)."""
    if sock is None:
        return True
    poller = select.poll()  # not select(): descriptors above 1024 in a busy worker
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
