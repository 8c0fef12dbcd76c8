"""Run the benchmarks: ``python -m bench [--quick] [--only NAME ...]``.

Prints one table (name, ours, floor, ratio, target, pass) and writes
bench/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
import warnings

from bench import environment
from bench.runner import Context, Result, table, write_results

# (name for --only, module) in run order: cheap and in-process first.
BENCHMARKS = [
    ("greeks", "bench.greeks"),
    ("american_greeks", "bench.american_greeks"),
    ("portfolio_pricing", "bench.portfolio_pricing"),
    ("positions_api", "bench.positions_api"),
    ("auth_overhead", "bench.auth_overhead"),
    ("dashboard", "bench.dashboard"),
    ("sync_write", "bench.sync_write"),
    ("sync_wave", "bench.sync_wave"),
    ("nightly_snapshot", "bench.nightly_snapshot"),
    ("http_load", "bench.http_load"),
]
NEEDS_DJANGO = {name for name, _ in BENCHMARKS} - {"greeks", "american_greeks"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes (same ratios and targets), < 50 s"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[name for name, _ in BENCHMARKS],
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(n for n, _ in BENCHMARKS)}",
    )
    return parser.parse_args(argv)


def _server_went_away(error: Exception) -> bool:
    """Whether the database or Redis dropped out from under the run (not our bug)."""
    import psycopg
    import redis
    from django.db import OperationalError

    return isinstance(error, OperationalError | psycopg.OperationalError | redis.ConnectionError)


def _run_one(name: str, module_name: str, ctx: Context) -> list[Result]:
    """Run one benchmark; retry it once if a server restarted under it; never raise."""
    for attempt in (1, 2):
        try:
            if ctx.env is not None and name in NEEDS_DJANGO:
                environment.ensure_up(ctx.env)
                if attempt == 2:
                    environment.wipe()  # what the first attempt seeded may be half there
            rows = importlib.import_module(module_name).run(ctx)
            if attempt == 2:
                for row in rows:
                    row.details["retried_after_server_restart"] = True
            return rows
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            if attempt == 1 and ctx.env is not None and _server_went_away(error):
                print(f"{name}: a server went away; retrying once", flush=True)
                if ctx.env.embedded:
                    time.sleep(2)  # let a parallel `make test` finish stopping them
                continue
            return [
                Result(
                    name=name,
                    ours=None,
                    floor=None,
                    target=None,
                    status="error",
                    details={"error": f"{type(error).__name__}: {error}"},
                )
            ]
    raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # WhiteNoise looks for collected static files the bench does not collect.
    warnings.filterwarnings("ignore", message="No directory at")
    started = time.perf_counter()
    selected = [(name, module) for name, module in BENCHMARKS if not args.only or name in args.only]

    env = None
    if any(name in NEEDS_DJANGO for name, _ in selected):
        env = environment.configure()
        environment.ensure_database(env)
        import django

        django.setup()
        environment.migrate_and_wipe()
        print(f"bench database ready ({time.perf_counter() - started:.1f} s)", flush=True)
    ctx = Context(quick=args.quick, env=env)

    results: list[Result] = []
    for name, module_name in selected:
        began = time.perf_counter()
        rows = _run_one(name, module_name, ctx)
        for row in rows:
            row.details.setdefault("benchmark_seconds", round(time.perf_counter() - began, 2))
        results.extend(rows)
        print(f"{name}: {time.perf_counter() - began:.1f} s", flush=True)

    seconds = time.perf_counter() - started
    print()
    print(table(results))
    path = write_results(results, quick=args.quick, only=args.only, seconds=seconds)
    print(f"\n{'quick' if args.quick else 'full'} run: {seconds:.1f} s; results in {path}")
    return 1 if any(row.status == "error" for row in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
