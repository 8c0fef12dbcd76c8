"""The broker client's keep-alive connection (http.client) against a local server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from brokers.tastytrade.transport import Connection, TransportError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.client_address[1]))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # A server dropping idle keep-alive connections, without saying so.
        self.close_connection = self.server.drop_after_answer

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, int]] = []
        self.drop_after_answer = False


@pytest.fixture
def server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def base_url(server: _Server, path: str = "") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_requests_share_one_connection_and_keep_the_base_path(server):
    connection = Connection(base_url(server, "/api/"), (1.0, 1.0))
    replies = [
        connection.request("GET", f"/a?n={n}", body=None, headers={"User-Agent": "t/1"})
        for n in range(3)
    ]
    connection.close()

    assert [reply.status_code for reply in replies] == [200, 200, 200]
    assert replies[0].content == b'{"ok": true}'
    assert replies[0].headers.get("content-type") == "application/json"
    assert [path for path, _ in server.seen] == ["/api/a?n=0", "/api/a?n=1", "/api/a?n=2"]
    assert len({port for _, port in server.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_reopened_not_failed(server):
    server.drop_after_answer = True
    connection = Connection(base_url(server), (1.0, 1.0))
    connection.request("GET", "/first", body=None, headers={})
    time.sleep(0.1)  # the server's close reaches us

    reply = connection.request("GET", "/second", body=None, headers={})
    connection.close()

    assert reply.status_code == 200
    assert len({port for _, port in server.seen}) == 2


def test_refused_and_silent_servers_are_a_reset_and_a_timeout(server):
    import socket

    with socket.socket() as silent:  # accepts (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(TransportError) as raised:
            Connection(f"http://127.0.0.1:{silent.getsockname()[1]}", (1.0, 0.2)).request(
                "GET", "/", body=None, headers={}
            )
        assert raised.value.reason == "timeout"
        port = silent.getsockname()[1]
    with pytest.raises(TransportError) as raised:  # nothing listens there now
        Connection(f"http://127.0.0.1:{port}", (1.0, 0.2)).request(
            "GET", "/", body=None, headers={}
        )
    assert raised.value.reason == "reset"


def test_only_http_urls_are_accepted():
    with pytest.raises(ValueError):
        Connection("ftp://example.com", 1.0)
