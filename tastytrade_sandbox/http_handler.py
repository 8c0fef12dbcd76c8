"""The HTTP plumbing: one thread per request, keep-alive, hang and drop faults."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tastytrade_sandbox.http_types import Request, Response, json_response
from tastytrade_sandbox.wire import error_body

if TYPE_CHECKING:
    from tastytrade_sandbox.server import Sandbox

logger = logging.getLogger(__name__)

HANDLER_IDLE_SECONDS = 30  # idle keep-alive connections are closed after this


def handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(_SandboxHandler):
        pass

    Handler.sandbox = sandbox
    return Handler


class _SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like production
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus
    # delayed ACKs stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "TastytradeSandbox/1.0"
    timeout = HANDLER_IDLE_SECONDS
    sandbox: Sandbox

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, fmt: str, *args: Any) -> None:
        logger.debug("%s " + fmt, self.address_string(), *args)

    def _handle(self) -> None:
        request = self._read()
        try:
            response = self.sandbox.dispatch(request)
        except Exception:  # a sandbox bug must still answer, and be visible
            logger.exception("sandbox error on %s %s", request.method, request.path)
            response = json_response(500, error_body("sandbox_bug", "Unhandled sandbox error"))
        release = self.sandbox.release_event()
        if response.delay_seconds:
            release.wait(response.delay_seconds)
        if response.action == "hang":
            release.wait(response.hang_seconds)
            self.close_connection = True
            return
        self._write(response)

    def _read(self) -> Request:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_segments = [s for s in split.path.split("/") if s != ""]
        return Request(
            method=self.command,
            path=unquote(split.path),
            segments=tuple(unquote(s) for s in raw_segments),
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
        )

    def _write(self, response: Response) -> None:
        body = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.action == "drop":
            self.send_header("Connection", "close")
        self.end_headers()
        if response.action == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
