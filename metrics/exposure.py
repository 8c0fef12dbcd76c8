"""Roll priced legs up into portfolio exposure (DESIGN.md sections 5 and 9).

Totals are sums of position greeks over priced legs: delta in share-equivalents,
gamma per 1 price unit, theta in $ per calendar day (short premium > 0), vega
in $ per IV point, rho in $ per +1 percentage point of the rate (a priced leg
without a rho adds none). Legs without a price are excluded and counted,
never zero.

Per underlying, ``iv_rank`` and ``iv_percentile`` are the broker's market
metrics (fractions 0-1; IV rank places today's IV index within its 52-week
low-high range, IV percentile is the share of days of the past year with a
lower IV): two different numbers, None when the broker gave none.

Beta-weighted delta, in SPY share-equivalents, is
sum(position delta * beta * underlying price / SPY price); for futures and
their options the underlying price is the futures price. A missing beta is
taken as 1.0 only for SPY itself and the ES / MES futures; any other leg
without a beta is left out of it and counted in ``legs_beta_missing``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metrics.pricing import CRYPTOCURRENCY, EQUITY, FUTURE, LegInputs, LegPricing

# SPY, or an ES / MES future ("/ES", "/ESZ5", "/MESH26"; "./" option roots excluded).
_BETA_ONE_SYMBOL = re.compile(r"^(SPY|/?M?ES([FGHJKMNQUVXZ]\d{1,2})?)$")


@dataclass(frozen=True, slots=True)
class PortfolioExposure:
    """A portfolio's exposure; units as in the module docstring."""

    total_delta: float
    total_gamma: float
    total_theta: float
    total_vega: float
    total_rho: float  # $ per +1 rate point
    beta_weighted_delta: float | None  # SPY shares; None without a SPY price
    beta_weighted_delta_dollars: float | None  # $ = SPY shares * SPY price
    theta_over_net_liq: float | None  # fraction per day; None without net liq
    net_liquidation_value: Decimal | None
    unrealized_pnl: Decimal  # $ = sum(premium_received + current_value)
    legs: int
    legs_unpriced: int  # excluded from the greek totals
    legs_beta_missing: int  # priced, but excluded from beta-weighted delta
    legs_beta_assumed: int  # beta 1.0 assumed (SPY, ES, MES without a beta)
    legs_without_value: int  # excluded from unrealized P/L
    by_underlying: list[dict[str, Any]]
    by_strategy: list[dict[str, Any]]


def portfolio_exposure(
    legs: LegInputs,
    pricing: LegPricing,
    *,
    underlying: ArrayLike,
    group_ids: ArrayLike,
    strategy_types: ArrayLike | None = None,
    spy_price: float | None,
    net_liquidation_value: Decimal | None,
    premium_received: Sequence[Decimal | None],
    current_value: Sequence[Decimal | None],
    iv_rank: Sequence[float | None] | None = None,
    iv_percentile: Sequence[float | None] | None = None,
) -> PortfolioExposure:
    """Total and break down a book's greeks, beta-weighted delta and P/L.

    ``underlying``, ``group_ids`` and ``strategy_types`` hold one string per
    leg (symbol, strategy group id, strategy type); ``premium_received`` and
    ``current_value`` are $ per leg (credit > 0; a short's value < 0), None
    when unknown. ``spy_price`` is $ per SPY share.
    """
    size = len(legs)
    underlying = _strings(underlying, size, "underlying")
    group_ids = _strings(group_ids, size, "group_ids")
    strategy_types = (
        np.full(size, "")
        if strategy_types is None
        else _strings(strategy_types, size, "strategy_types")
    )
    if len(premium_received) != size or len(current_value) != size:
        raise ValueError("premium_received and current_value need one value per leg")

    priced = pricing.priced
    beta, assumed = _effective_beta(legs.beta, underlying)
    kind = legs.instrument_type
    is_linear = (kind == EQUITY) | (kind == FUTURE) | (kind == CRYPTOCURRENCY)
    underlying_price = np.where(is_linear, pricing.price, legs.underlying_price)
    spy_ok = spy_price is not None and math.isfinite(spy_price) and spy_price > 0.0
    with np.errstate(invalid="ignore"):
        bwd = pricing.position_delta * beta * underlying_price
    if spy_ok:
        bwd /= spy_price
    in_bwd = priced & np.isfinite(bwd)
    beta_missing = priced & ~in_bwd

    pnl, has_value = _leg_pnl(premium_received, current_value)
    columns = {
        "delta": np.where(priced, pricing.position_delta, 0.0),
        "gamma": np.where(priced, pricing.position_gamma, 0.0),
        "theta": np.where(priced, pricing.position_theta, 0.0),
        "vega": np.where(priced, pricing.position_vega, 0.0),
        "rho": _rho_column(pricing, priced),
        "beta_weighted_delta": np.where(in_bwd, bwd, 0.0),
    }
    counts = {"legs_unpriced": ~priced, "legs_beta_missing": beta_missing}

    total_theta = float(columns["theta"].sum())
    total_bwd = float(columns["beta_weighted_delta"].sum()) if spy_ok else None
    net_liq_ok = net_liquidation_value is not None and net_liquidation_value > 0
    return PortfolioExposure(
        total_delta=float(columns["delta"].sum()),
        total_gamma=float(columns["gamma"].sum()),
        total_theta=total_theta,
        total_vega=float(columns["vega"].sum()),
        total_rho=float(columns["rho"].sum()),
        beta_weighted_delta=total_bwd,
        beta_weighted_delta_dollars=None if total_bwd is None else total_bwd * spy_price,
        theta_over_net_liq=(total_theta / float(net_liquidation_value) if net_liq_ok else None),
        net_liquidation_value=net_liquidation_value,
        unrealized_pnl=sum((p for p, ok in zip(pnl, has_value, strict=True) if ok), Decimal(0)),
        legs=size,
        legs_unpriced=int(np.count_nonzero(~priced)),
        legs_beta_missing=int(np.count_nonzero(beta_missing)),
        legs_beta_assumed=int(np.count_nonzero(priced & assumed)),
        legs_without_value=int(np.count_nonzero(~has_value)),
        by_underlying=_with_iv_metrics(
            _breakdown(underlying, columns, counts, pnl, has_value, spy_ok, key_name="underlying"),
            underlying,
            iv_rank,
            iv_percentile,
        ),
        by_strategy=_strategy_breakdown(
            group_ids, strategy_types, underlying, columns, counts, pnl, has_value, spy_ok
        ),
    )


def _rho_column(pricing: LegPricing, priced: NDArray[np.bool_]) -> NDArray[np.float64]:
    if pricing.position_rho is None:
        return np.zeros(priced.shape)
    rho = pricing.position_rho
    return np.where(priced & np.isfinite(rho), rho, 0.0)


def _with_iv_metrics(rows, underlying, iv_rank, iv_percentile):
    """Add each underlying's IV rank and IV percentile (the first leg's that has one)."""
    ranks: dict[str, float] = {}
    percentiles: dict[str, float] = {}
    for i, symbol in enumerate(underlying):
        if iv_rank is not None and iv_rank[i] is not None:
            ranks.setdefault(str(symbol), float(iv_rank[i]))
        if iv_percentile is not None and iv_percentile[i] is not None:
            percentiles.setdefault(str(symbol), float(iv_percentile[i]))
    for row in rows:
        row["iv_rank"] = ranks.get(row["underlying"])
        row["iv_percentile"] = percentiles.get(row["underlying"])
    return rows


def _effective_beta(
    beta: NDArray[np.float64], underlying: NDArray[np.str_]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Return beta with 1.0 filled in where it may be assumed, and where it was."""
    symbols, inverse = np.unique(underlying, return_inverse=True)
    beta_is_one = np.array([bool(_BETA_ONE_SYMBOL.match(s)) for s in symbols], dtype=bool)
    assumed = np.isnan(beta) & beta_is_one[inverse.reshape(-1)]
    return np.where(assumed, 1.0, beta), assumed


def _leg_pnl(
    premium_received: Sequence[Decimal | None], current_value: Sequence[Decimal | None]
) -> tuple[list[Decimal], NDArray[np.bool_]]:
    pnl = []
    has_value = np.zeros(len(premium_received), dtype=bool)
    for i, (premium, value) in enumerate(zip(premium_received, current_value, strict=True)):
        if premium is None or value is None:
            pnl.append(Decimal(0))
        else:
            pnl.append(Decimal(premium) + Decimal(value))
            has_value[i] = True
    return pnl, has_value


def _breakdown(keys, columns, counts, pnl, has_value, spy_ok, *, key_name):
    """Sum every column and count per distinct key, in key order."""
    labels, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = {
        name: np.bincount(inverse, weights=values, minlength=labels.size)
        for name, values in columns.items()
    }
    tallies = {
        name: np.bincount(inverse, weights=mask, minlength=labels.size).astype(int)
        for name, mask in counts.items()
    }
    legs = np.bincount(inverse, minlength=labels.size)
    group_pnl = [Decimal(0)] * labels.size
    for group, value, ok in zip(inverse, pnl, has_value, strict=True):
        if ok:
            group_pnl[group] += value
    rows = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {key_name: str(label)}
        row.update({name: float(total[i]) for name, total in sums.items()})
        if not spy_ok:
            row["beta_weighted_delta"] = None
        row["unrealized_pnl"] = group_pnl[i]
        row["legs"] = int(legs[i])
        row.update({name: int(tally[i]) for name, tally in tallies.items()})
        rows.append(row)
    return rows


def _strategy_breakdown(
    group_ids, strategy_types, underlying, columns, counts, pnl, has_value, spy_ok
):
    rows = _breakdown(group_ids, columns, counts, pnl, has_value, spy_ok, key_name="group_id")
    # The group's strategy type and underlying, from its first leg.
    first_leg = {}
    for i, group in enumerate(group_ids):
        first_leg.setdefault(str(group), i)
    for row in rows:
        i = first_leg[row["group_id"]]
        row["strategy_type"] = str(strategy_types[i])
        row["underlying"] = str(underlying[i])
    return rows


def _strings(values: ArrayLike, size: int, name: str) -> NDArray[np.str_]:
    array = np.asarray(values)
    if array.dtype.kind != "U":
        array = np.array(["" if v is None else str(v) for v in array.ravel()], dtype=np.str_)
    if array.shape != (size,):
        raise ValueError(f"{name} needs one value per leg")
    return array
