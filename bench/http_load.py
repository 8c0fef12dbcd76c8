"""9. HTTP load on the API through gunicorn: 50 clients for 2 minutes, loopback only.

The production server as deployed (``gunicorn --config deploy/gunicorn.conf.py``:
3 workers × 2 threads unless WEB_CONCURRENCY / WEB_THREADS say otherwise,
access log on), bound to 127.0.0.1, DEBUG off, JWT checks in PEM mode.

The load generator is the bench's own, bounded in time and count: 50 closed-
loop clients (threads), each a trader with its own Bearer session JWT on a
keep-alive HTTP/1.1 connection, cycling over GET positions (a 30-leg book),
GET the portfolio list and GET /api/auth/me, no think time, as a TLS proxy
would forward them (X-Forwarded-Proto: https). It stops by itself after the
duration (quick: 10 s).

Reported: p50 / p95 / p99 latency, requests per second, errors (any non-200
or transport failure; must be 0), and the ratio of the loaded p95 to a
single unloaded request (the median of sequential requests, same mix).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench import seed
from bench.runner import Context, Result

CLIENTS = 50
FULL_SECONDS = 120.0
QUICK_SECONDS = 10.0
LEGS = 30
REQUEST_TIMEOUT_SECONDS = 30.0
START_TIMEOUT_SECONDS = 60.0
REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


class Gunicorn:
    def __init__(self, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_path = log_dir / "gunicorn.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "thetavue_site.wsgi:application",
                "--config",
                "deploy/gunicorn.conf.py",
                # The command line wins over the config file's 0.0.0.0: loopback only.
                "--bind",
                f"127.0.0.1:{self.port}",
                # Leave a developer's running gunicorn its control socket.
                "--no-control-socket",
            ],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                status, _ = Client(self.port, {}).get("/healthz")
                if status in (200, 503):
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start; see {self.log_path}")
            time.sleep(0.2)

    def workers(self) -> str:
        return f"{os.environ.get('WEB_CONCURRENCY', '3')} × {os.environ.get('WEB_THREADS', '2')}"

    def stop(self) -> None:
        # SIGINT is gunicorn's quick shutdown; the load has ended, nothing is in flight.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Client:
    """One keep-alive connection; reconnects when the server closed an idle one."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = {"X-Forwarded-Proto": "https", "Accept": "application/json", **headers}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, int]:
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS
                )
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return response.status, len(body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A reused connection the server had closed: HTTP lets a client retry
                # an idempotent GET once on a new one. A fresh one failing is an error.
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _seed(ctx: Context) -> list[tuple[dict[str, str], list[str]]]:
    """Return, per client, its Authorization header and the paths it cycles over."""
    from django.utils import timezone

    from portfolios.models import Portfolio, Position
    from thetavue_site import rls

    today = timezone.localdate()
    legs = seed.book_legs(LEGS, seed=1000, today=today)
    with rls.as_service():
        users = seed.make_users("load", CLIENTS)
        portfolios = Portfolio.objects.bulk_create(
            Portfolio(
                user_id=user_id,
                name="Load",
                account_type="margin",
                broker_account_id=f"LOAD{index:05d}",
                net_liquidation_value=250_000,
                spy_price=seed.SPY_PRICE,
            )
            for index, user_id in enumerate(users)
        )
        Position.objects.bulk_create(
            Position(portfolio_id=portfolio.pk, **leg) for portfolio in portfolios for leg in legs
        )
    seed.analyze()
    return [
        (
            {
                "Authorization": "Bearer "
                + seed.session_token(ctx.env.clerk_private_pem, user_id, lifetime_seconds=900)
            },
            [
                f"/api/portfolio/{portfolio.pk}/positions/",
                "/api/portfolio/",
                "/api/auth/me",
            ],
        )
        for user_id, portfolio in zip(users, portfolios, strict=True)
    ]


def run(ctx: Context) -> list[Result]:
    duration = QUICK_SECONDS if ctx.quick else FULL_SECONDS
    phases = {}
    began = time.perf_counter()
    clients = _seed(ctx)
    phases["seed_s"] = time.perf_counter() - began
    log_dir = Path(tempfile.mkdtemp(prefix="thetavue-bench-gunicorn-"))
    began = time.perf_counter()
    server = Gunicorn(log_dir)
    phases["boot_s"] = time.perf_counter() - began
    try:
        # Unloaded: one client, one request at a time, the same mix.
        headers, paths = clients[0]
        alone = Client(server.port, headers)
        for path in paths * 3:  # warm every worker's imports and connections
            alone.get(path)
        unloaded = []
        for _ in range(5 if ctx.quick else 40):
            for path in paths:
                started = time.perf_counter()
                status, _ = alone.get(path)
                unloaded.append(time.perf_counter() - started)
                assert status == 200, (path, status)
        alone.close()

        latencies: list[list[float]] = [[] for _ in clients]
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        stop_at = time.perf_counter() + duration

        def load(index: int) -> None:
            headers, paths = clients[index]
            client = Client(server.port, headers)
            mine = latencies[index]
            turn = index
            while time.perf_counter() < stop_at:
                path = paths[turn % len(paths)]
                turn += 1
                started = time.perf_counter()
                try:
                    status, _ = client.get(path)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        errors[type(error).__name__] += 1
                    client.close()
                    continue
                mine.append(time.perf_counter() - started)
                if status != 200:
                    with lock:
                        errors[f"HTTP {status}"] += 1
            client.close()

        threads = [threading.Thread(target=load, args=(i,)) for i in range(len(clients))]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=duration + 2 * REQUEST_TIMEOUT_SECONDS)
        elapsed = time.perf_counter() - began
    finally:
        stopping = time.perf_counter()
        server.stop()
        phases["stop_s"] = time.perf_counter() - stopping

    done = sorted(value for mine in latencies for value in mine)
    unloaded.sort()
    single = _percentile(unloaded, 0.5)
    p50, p95, p99 = (_percentile(done, f) for f in (0.5, 0.95, 0.99))
    error_count = sum(errors.values())
    return [
        Result(
            name=f"9 HTTP load {CLIENTS} clients {duration:.0f} s",
            ours=p95,
            floor=single,
            target=None,
            checks={"0 errors": error_count == 0 and bool(done)},
            details={
                "meaning": "ours = loaded p95; floor = one unloaded request (median); "
                "ratio = p95 over a single unloaded request",
                "server": f"gunicorn, deploy/gunicorn.conf.py, {server.workers()} threads",
                "clients": CLIENTS,
                "seconds": elapsed,
                "requests": len(done),
                "requests_per_second": len(done) / elapsed,
                "p50_s": p50,
                "p95_s": p95,
                "p99_s": p99,
                "max_s": done[-1] if done else None,
                "unloaded_p50_s": single,
                "errors": dict(errors),
                "mix": "GET positions (30 legs), GET /api/portfolio/, GET /api/auth/me",
                "log": str(server.log_path),
                "phases": phases,
            },
        )
    ]
