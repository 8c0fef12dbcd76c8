"""The shared runner: timing, one result row per measurement, the table, results.json.

Every benchmark times our code and its floor in the same run, interleaved
(ours, floor, ours, floor, …) so both see the same machine noise, and reports
the median of several runs. A ratio passes when it is at most the target.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Context:
    """What every benchmark's run() gets: the mode and the bench's world."""

    quick: bool
    env: Any  # bench.environment.BenchEnvironment (None for the pure NumPy benchmark)


@dataclass
class Result:
    """One row of the table. Times in seconds; `ratio` = ours / floor."""

    name: str
    ours: float | None
    floor: float | None
    target: float | None  # the ratio must be <= target ("≥" targets set `at_least`)
    at_least: bool = False  # True: the ratio must be >= target instead
    status: str = "ok"  # "ok", "not available", "error"
    unit: str = "s"  # "s" for times; anything else is shown as a plain number
    checks: dict[str, bool] = field(default_factory=dict)  # extra pass conditions
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.floor is None or self.floor == 0:
            return None
        return self.ours / self.floor

    @property
    def passed(self) -> bool | None:
        if self.status != "ok":
            return None
        ratio_ok = True
        if self.target is not None and self.ratio is not None:
            ratio_ok = self.ratio >= self.target if self.at_least else self.ratio <= self.target
        return ratio_ok and all(self.checks.values())

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["passed"] = self.passed
        return data


def not_available(name: str, reason: str, target: float | None) -> Result:
    return Result(
        name=name,
        ours=None,
        floor=None,
        target=target,
        status="not available",
        details={"reason": reason},
    )


# Timing --------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def interleaved(
    ours: Callable[[], Any],
    floor: Callable[[], Any],
    *,
    repeat: int,
    warmup: int = 1,
    before: Callable[[], Any] | None = None,
) -> tuple[list[float], list[float]]:
    """Run ours and the floor alternately `repeat` times each; return both time lists.

    `before`, when given, runs untimed before every timed call (resetting state).
    The order flips every round so neither side always runs on a warm cache.
    """
    for _ in range(warmup):
        for fn in (ours, floor):
            if before:
                before()
            fn()
    ours_times: list[float] = []
    floor_times: list[float] = []
    for round_ in range(repeat):
        pair = ((ours, ours_times), (floor, floor_times))
        for fn, times in pair if round_ % 2 == 0 else reversed(pair):
            if before:
                before()
            elapsed, _ = timed(fn)
            times.append(elapsed)
    return ours_times, floor_times


def median(values: list[float]) -> float:
    return statistics.median(values)


# Output --------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit != "s":
        return f"{value:,.4g} {unit}".strip()
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def _format_target(result: Result) -> str:
    if result.target is None:
        return "-"
    return f"{'≥' if result.at_least else '≤'} {result.target:g}×"


def _format_pass(result: Result) -> str:
    if result.status != "ok":
        return result.status
    failed = [name for name, ok in result.checks.items() if not ok]
    if result.passed:
        return "PASS"
    return "FAIL" + (f" ({', '.join(failed)})" if failed else "")


def table(results: list[Result]) -> str:
    headers = ("name", "ours", "floor", "ratio", "target", "pass")
    rows = [
        (
            r.name,
            format_value(r.ours, r.unit),
            format_value(r.floor, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}×",
            _format_target(r),
            _format_pass(r),
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(width) if i in (0, 5) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in (headers, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    return str(value)


def write_results(
    results: list[Result], *, quick: bool, only: list[str] | None, seconds: float
) -> Path:
    import numpy

    payload = {
        "quick": quick,
        "only": only,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_seconds": round(seconds, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "numpy": numpy.__version__,
        },
        "results": [result.as_json() for result in results],
    }
    RESULTS_PATH.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return RESULTS_PATH
