"""Run the sandbox as a process: ``python -m tastytrade_sandbox``.

Flags fall back to the environment (the names ThetaVue's settings use), then
to development defaults that match ThetaVue's own.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import date

from tastytrade_sandbox.config import (
    CONTROL_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REDIRECT_URIS,
    DEFAULT_SEED,
    STANDALONE_TICK_SECONDS,
    SandboxConfig,
)
from tastytrade_sandbox.server import Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m tastytrade_sandbox",
        description="Local Tastytrade API sandbox with demo traders.",
    )
    parser.add_argument("--host", default=env.get("SANDBOX_HOST", DEFAULT_HOST))
    parser.add_argument("--port", type=int, default=int(env.get("SANDBOX_PORT", DEFAULT_PORT)))
    parser.add_argument("--seed", type=int, default=int(env.get("SANDBOX_SEED", DEFAULT_SEED)))
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=env.get("SANDBOX_DATE") or None,
        help="New York market date of the book (default: today)",
    )
    parser.add_argument("--client-id", default=env.get("TASTYTRADE_CLIENT_ID", DEFAULT_CLIENT_ID))
    parser.add_argument(
        "--client-secret",
        default=env.get("TASTYTRADE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        help="registered redirect URI (repeatable; default: ThetaVue's dev callback)",
    )
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=float(env.get("SANDBOX_TICK_SECONDS", STANDALONE_TICK_SECONDS)),
        help="wall-clock seconds per price tick; 0 turns automatic ticks off",
    )
    parser.add_argument(
        "--no-greeks",
        action="store_true",
        help="leave the undocumented greek fields out of option quotes",
    )
    args = parser.parse_args(argv)
    if isinstance(args.date, str):
        args.date = date.fromisoformat(args.date)
    if not args.redirect_uri:
        configured = env.get("TASTYTRADE_REDIRECT_URI")
        args.redirect_uri = [configured] if configured else list(DEFAULT_REDIRECT_URIS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = SandboxConfig(
        seed=args.seed,
        market_date=args.date,
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=tuple(args.redirect_uri),
        tick_seconds=args.tick_seconds or None,
        greeks_in_quotes=not args.no_greeks,
    )
    sandbox = Sandbox(config, host=args.host, port=args.port)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    sandbox.start()
    state = sandbox.describe()
    lines = [
        "Tastytrade sandbox running",
        f"  REST base:      {sandbox.base_url}",
        f"  authorize page: {sandbox.authorize_url}",
        f"  token endpoint: {sandbox.token_url}",
        f"  controls:       {sandbox.base_url}{CONTROL_PREFIX}/state",
        f"  OAuth client:   {config.client_id} (redirects: {', '.join(config.redirect_uris)})",
        f"  market date:    {state['market_date']}  seed: {config.seed}  "
        f"tick every: {config.tick_seconds or 'control only'} s",
    ]
    lines += [
        f"  trader {c['login']:<5} {c['name']}: {', '.join(c['accounts'])}"
        for c in state["customers"]
    ]
    print("\n".join(lines), flush=True)
    stopping.wait()
    sandbox.stop()
    print("Tastytrade sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
