"""Fault injection: rules matching method and path that misbehave on purpose.

A rule fires for its next ``times`` matching requests (None: every one), or
at a seeded ``rate``. Modifier faults (latency, schema drift) change an
answer that still happens; the others replace it.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from tastytrade_sandbox.market import seeded_rng

# kind -> what it does
FAULT_KINDS = {
    "latency": "answer normally after `seconds`",
    "throttle": "429 with no Retry-After or rate-limit headers",
    "server_error": "500 with a JSON error body",
    "bad_gateway": "502 with an HTML body, as a proxy sends",
    "unavailable": "503 with a JSON error body",
    "status": "any `status` with a JSON error body",
    "hang": "never answer; the connection closes after `seconds`",
    "drop": "send headers and half the body, then close the connection",
    "malformed_json": "200 with a truncated body and a wrong content type",
    "expired_token": "expire the presented access token now, then 401",
    "invalid_grant": "token endpoint answers 400 invalid_grant",
    "schema_drift": "drop optional fields, add unknown ones, flip number/string; "
    "mode='empty' empties lists, mode='shape' breaks the envelope",
}
MODIFIER_KINDS = frozenset({"latency", "schema_drift"})


@dataclass
class FaultRule:
    id: int
    kind: str
    method: str = "*"  # HTTP method or "*"
    path: str = "*"  # glob on the request path, e.g. "/accounts/*/positions"
    times: int | None = 1  # fire for the next N matches; None: always
    rate: float | None = None  # fire with this probability instead (seeded)
    seconds: float | None = None  # latency / hang duration
    status: int | None = None  # for kind "status"
    mode: str | None = None  # schema_drift: "fields" (default), "empty" or "shape"
    # Production sends no Retry-After; set it to test clients that honour one.
    retry_after: float | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng")
        return data


class FaultInjector:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        *,
        method: str = "*",
        path: str = "*",
        times: int | None = 1,
        rate: float | None = None,
        seconds: float | None = None,
        status: int | None = None,
        mode: str | None = None,
        retry_after: float | None = None,
    ) -> FaultRule:
        """Add a rule; with ``rate`` set, ``times`` defaults to unlimited."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if kind == "status" and status is None:
            raise ValueError("a 'status' fault needs status=")
        if rate is not None and not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (None: always)")
        with self._lock:
            rule_id = next(self._ids)
            rule = FaultRule(
                id=rule_id,
                kind=kind,
                method=method.upper(),
                path=path,
                times=None if rate is not None and times == 1 else times,
                rate=rate,
                seconds=seconds,
                status=status,
                mode=mode,
                retry_after=retry_after,
                # A per-rule stream keeps rates reproducible for a given seed.
                _rng=seeded_rng(self.seed, "fault", rule_id),
            )
            self._rules.append(rule)
        return rule

    def fire(self, method: str, path: str) -> list[FaultRule]:
        """Return the rules firing for this request, spending their counts.

        All matching modifiers fire, plus at most one replacing fault.
        """
        fired: list[FaultRule] = []
        replaced = False
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                replacing = rule.kind not in MODIFIER_KINDS
                if replacing and replaced:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.rate is not None and rule._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                fired.append(rule)
                replaced = replaced or replacing
        return fired

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) < before

    def clear(self) -> None:
        with self._lock:
            self._rules = []


# Fields a client must not depend on; schema drift removes them.
DRIFT_REMOVABLE = frozenset(
    {
        "context",
        "close-price",
        "prev-close",
        "streamer-symbol",
        "cost-effect",
        "nickname",
        "updated-at",
        "created-at",
        "day-high-price",
        "day-low-price",
        "volume",
        "open-interest",
        "description",
        "beta-updated-at",
        "average-yearly-market-close-price",
        "average-daily-market-close-price",
        "realized-day-gain-date",
        "realized-today-date",
        "is-suppressed",
        "is-frozen",
        "external-id",
        "liquidity-rating",
        "day-trading-buying-power",
    }
)
DRIFT_FLIPPABLE = frozenset(
    {
        "quantity",
        "multiplier",
        "restricted-quantity",
        "shares-per-contract",
        "days-to-expiration",
        "open-interest",
        "liquidity-rating",
    }
)


def drift(payload: Any, *, mode: str | None, rng: random.Random) -> Any:
    """Return a drifted copy of a JSON payload, still valid for a lenient client."""
    if mode == "empty":
        return _empty_lists(payload)
    if mode == "shape" and isinstance(payload, dict):
        return {**payload, "data": [payload.get("data")]}  # not an object any more
    return _drift_value(payload, rng)


def _drift_value(value: Any, rng: random.Random) -> Any:
    if isinstance(value, list):
        return [_drift_value(item, rng) for item in value]
    if not isinstance(value, dict):
        return value
    drifted: dict[str, Any] = {}
    for key, item in value.items():
        if key in DRIFT_REMOVABLE and rng.random() < 0.8:
            continue
        if key in DRIFT_FLIPPABLE:
            item = _flip(item)
        drifted[key] = _drift_value(item, rng)
    if "symbol" in value or "account-number" in value:
        drifted["sandbox-added-field"] = rng.choice(["x", 1, None, {"nested": True}])
    return drifted


def _flip(value: Any) -> Any:
    """Swap a whole number between its JSON number and string forms."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _empty_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: [] if key == "items" else _empty_lists(item) for key, item in value.items()}
    return value
