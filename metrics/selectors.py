"""Reads of portfolio metrics, always starting from the user's portfolios.

Units and signs (DESIGN.md §5): greeks per position and their totals (delta
in share-equivalents, a short put > 0; gamma per $1 of the underlying; theta in
$ per calendar day, short premium > 0; vega in $ per +1 vol point);
beta-weighted delta in SPY share-equivalents and in $ (x SPY price); money in
$ as Decimal (premium received > 0 is a credit, a short's value < 0).

Real-time totals are sums of the greeks stored on each leg by the sync that
priced it (or by ``services.positions_reprice`` for a manual book), the same
figures the positions endpoint shows and the nightly snapshot aggregates. A
leg without stored greeks is left out of the totals and counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from metrics.buying_power import (
    CASH,
    MARGIN,
    BuyingPowerLeg,
    UnsupportedGroupError,
    group_buying_power,
    reconcile_net_liq,
)
from metrics.cache import metrics_get_many, metrics_set_many
from metrics.exposure import portfolio_exposure
from metrics.models import HistoricalMetric
from metrics.pricing import (
    EQUITY,
    EQUITY_OPTION,
    FUTURE,
    FUTURE_OPTION,
    LegInputs,
    LegPricing,
    price_scenarios,
)
from portfolios.models import Portfolio, Position
from portfolios.selectors import market_today as new_york_today
from portfolios.selectors import pnl_annotations

CENT = Decimal("0.01")
SPY = "SPY"
HISTORY_DEFAULT_DAYS = 365
HISTORY_MAX_DAYS = 3660  # ten years and a little: about 2,520 rows at most

LEG_FIELDS = (
    "id",
    "portfolio_id",
    "underlying_symbol",
    "instrument_type",
    "option_type",
    "strike_price",
    "expiration_date",
    "settlement_type",
    "quantity",
    "multiplier",
    "mark",
    "underlying_price",
    "implied_volatility",
    "iv_status",
    "greeks_source",
    "dividend_yield",
    "beta",
    "delta",
    "gamma",
    "theta",
    "vega",
    "premium_received",
    "current_value",
    "strategy_type",
    "strategy_group_id",
)
# Computed per leg by portfolios.selectors.pnl_annotations.
PNL_FIELDS = ("fees_since_open", "pnl_open", "pnl_day")
GREEKS = ("delta", "gamma", "theta", "vega")
OPTIONS = frozenset({EQUITY_OPTION, FUTURE_OPTION})
LINEAR = frozenset({EQUITY, FUTURE})

# Reg-T applies to margin and cash accounts (an IRA is cash for this purpose);
# a manual book is taken as a margin account. Portfolio margin: broker only.
REG_T_ACCOUNT = {
    Portfolio.AccountType.MARGIN: MARGIN,
    Portfolio.AccountType.CASH: CASH,
    Portfolio.AccountType.IRA: CASH,
    Portfolio.AccountType.MANUAL: MARGIN,
}


# Scope -------------------------------------------------------------------------


def metrics_as_of(portfolio: Portfolio) -> dt.datetime | None:
    """Return when the stored figures were produced: the last sync, or a manual edit."""
    return portfolio.updated_at if portfolio.is_manual else portfolio.synced_at


def leg_inputs(positions: Iterable[Any]) -> LegInputs:
    """Return pricing inputs for stored legs (Position rows or ``.values()`` dicts).

    The stored implied volatility is the fallback when the mark gives none: for
    a manual leg it is the trader's own IV, for a synced one the last good IV.
    """
    legs = list(positions)
    fields = {
        "instrument_type": "instrument_type",
        "option_type": "option_type",
        "strike": "strike_price",
        "expiration": "expiration_date",
        "settlement": "settlement_type",
        "mark": "mark",
        "underlying_price": "underlying_price",
        "quantity": "quantity",
        "multiplier": "multiplier",
        "dividend_yield": "dividend_yield",
        "broker_iv": "implied_volatility",
        "beta": "beta",
    }
    if legs and isinstance(legs[0], Mapping):
        columns = {name: [leg[source] for leg in legs] for name, source in fields.items()}
    else:
        columns = {name: [getattr(leg, source) for leg in legs] for name, source in fields.items()}
    return LegInputs.from_columns(columns)


def _leg_rows(portfolio_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Return the legs of the portfolios by portfolio id, in one query."""
    rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    legs = (
        Position.objects.filter(portfolio_id__in=portfolio_ids)
        .annotate(**pnl_annotations(today=new_york_today()))
        .order_by("pk")
        .values(*LEG_FIELDS, *PNL_FIELDS)
    )
    for row in legs:
        rows[row["portfolio_id"]].append(row)
    return rows


# Real-time metrics ---------------------------------------------------------------


def portfolio_metrics(*, portfolio: Portfolio) -> dict[str, Any]:
    """Return the portfolio's real-time metrics (cached per sync version)."""
    return portfolio_metrics_many(portfolios=[portfolio])[0]


def portfolio_metrics_many(*, portfolios: Sequence[Portfolio]) -> list[dict[str, Any]]:
    """Return each portfolio's metrics in order: one cache read, one query for misses.

    The portfolios must come from the user's scope: keys are read only after
    that owner check.
    """
    payloads = metrics_get_many(portfolios)
    missing = [portfolio for portfolio in portfolios if portfolio.pk not in payloads]
    if missing:
        rows = _leg_rows([portfolio.pk for portfolio in missing])
        fresh = {
            portfolio: _metrics(portfolio, rows.get(portfolio.pk, [])) for portfolio in missing
        }
        metrics_set_many(fresh)
        payloads.update({portfolio.pk: payload for portfolio, payload in fresh.items()})
    return [payloads[portfolio.pk] for portfolio in portfolios]


def _metrics(portfolio: Portfolio, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    legs = leg_inputs(rows)
    group_ids = [_group_id(row) for row in rows]
    spy_price = _spy_price(portfolio, rows)
    # An option past its expiry that the broker still lists carries no risk:
    # out of the greek totals and buying power until the broker removes it.
    expired = _expired(rows)
    pricing = _stored_pricing(rows, legs)
    unpriced = int((~pricing.priced & ~expired).sum())
    pricing = dataclasses.replace(pricing, priced=pricing.priced & ~expired)
    exposure = portfolio_exposure(
        legs,
        pricing,
        underlying=[row["underlying_symbol"] for row in rows],
        group_ids=group_ids,
        strategy_types=[row["strategy_type"] for row in rows],
        spy_price=None if spy_price is None else float(spy_price),
        net_liquidation_value=portfolio.net_liquidation_value,
        premium_received=[row["premium_received"] for row in rows],
        current_value=[row["current_value"] for row in rows],
    )
    live = [i for i in range(len(rows)) if not expired[i]]
    buying_power, source, unsupported, per_group = _buying_power(
        portfolio, [rows[i] for i in live], [group_ids[i] for i in live]
    )
    pnl_by_group = _pnl_sums(rows, group_ids)
    pnl_by_underlying = _pnl_sums(rows, [row["underlying_symbol"] for row in rows])
    pnl = _pnl_sums(rows, [""] * len(rows)).get("", _pnl_total([]))
    by_strategy = [
        {
            **row,
            **pnl_by_group[row["group_id"]],
            "buying_power_used": per_group.get(row["group_id"]),
        }
        for row in exposure.by_strategy
    ]
    bp_by_underlying: dict[str, Decimal] = defaultdict(Decimal)
    bp_known: dict[str, bool] = defaultdict(lambda: True)
    for row in exposure.by_strategy:
        value = per_group.get(row["group_id"])
        if value is None:
            bp_known[row["underlying"]] = False
        else:
            bp_by_underlying[row["underlying"]] += value
    net_liq = portfolio.net_liquidation_value
    by_underlying = []
    for row in exposure.by_underlying:
        used = bp_by_underlying.get(row["underlying"]) if bp_known[row["underlying"]] else None
        by_underlying.append(
            {
                **row,
                **pnl_by_underlying[row["underlying"]],
                "buying_power_used": None if used is None else _cents(used),
                "buying_power_fraction": (
                    float(used / net_liq) if used is not None and net_liq else None
                ),
            }
        )
    return {
        "portfolio_id": portfolio.pk,
        "portfolio_name": portfolio.name,
        "account_type": portfolio.account_type,
        "as_of": metrics_as_of(portfolio),
        "sync_version": portfolio.sync_version,
        "net_liquidation_value": portfolio.net_liquidation_value,
        "spy_price": spy_price,
        "total_delta": exposure.total_delta,
        "total_gamma": exposure.total_gamma,
        "total_theta": exposure.total_theta,
        "total_vega": exposure.total_vega,
        "beta_weighted_delta": exposure.beta_weighted_delta,
        "beta_weighted_delta_dollars": exposure.beta_weighted_delta_dollars,
        "theta_over_net_liq": exposure.theta_over_net_liq,
        "buying_power_used": buying_power,
        "buying_power_source": source,
        "buying_power_unsupported_groups": unsupported,
        "buying_power_available": portfolio.buying_power,
        "unrealized_pnl": _cents(exposure.unrealized_pnl),
        **pnl,
        "legs": exposure.legs,
        "legs_unpriced": unpriced,
        "legs_expired": int(expired.sum()),
        "legs_beta_missing": exposure.legs_beta_missing,
        "legs_beta_assumed": exposure.legs_beta_assumed,
        "legs_without_value": exposure.legs_without_value,
        "by_underlying": [_with_cents(row) for row in by_underlying],
        "by_strategy": [_with_cents(row) for row in by_strategy],
        "net_liq_reconciliation": _reconciliation(portfolio, rows),
    }


def _expired(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Return which legs are options past their expiry date (New York)."""
    today = new_york_today()
    return np.array(
        [
            row["instrument_type"] in OPTIONS
            and row["expiration_date"] is not None
            and row["expiration_date"] < today
            for row in rows
        ],
        dtype=bool,
    )


def _pnl_total(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum the legs' P/L ($): open after fees, and day; None when no leg has the figure."""
    opened = [row["pnl_open"] for row in rows if row["pnl_open"] is not None]
    day = [row["pnl_day"] for row in rows if row["pnl_day"] is not None]
    return {
        "pnl_open": _cents(sum(opened, Decimal(0))) if opened or not rows else None,
        "pnl_day": _cents(sum(day, Decimal(0))) if day or not rows else None,
        "fees_since_open": _cents(sum((row["fees_since_open"] for row in rows), Decimal(0))),
        "legs_without_pnl_day": len(rows) - len(day),
    }


def _pnl_sums(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, dict]:
    """Return _pnl_total of the legs sharing each key."""
    members: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row, key in zip(rows, keys, strict=True):
        members[key].append(row)
    return {key: _pnl_total(legs) for key, legs in members.items()}


def _group_id(row: Mapping[str, Any]) -> str:
    # A leg outside any detected group is a strategy of its own.
    return row["strategy_group_id"] or f"position-{row['id']}"


def _spy_price(portfolio: Portfolio, rows: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """Return the SPY price of the last sync, else a SPY leg's underlying price."""
    if portfolio.spy_price is not None:
        return portfolio.spy_price
    # A manual book has no sync; if it holds SPY, its legs carry SPY's price.
    prices = [
        row["underlying_price"]
        for row in rows
        if row["underlying_symbol"] == SPY and row["underlying_price"] is not None
    ]
    return max(prices) if prices else None


def _stored_pricing(rows: Sequence[Mapping[str, Any]], legs: LegInputs) -> LegPricing:
    """Wrap the stored per-position greeks as a LegPricing for ``portfolio_exposure``.

    A leg counts as priced when all four stored greeks are present.
    """
    size = len(rows)

    def column(name: str) -> np.ndarray:
        return np.array(
            [np.nan if row[name] is None else float(row[name]) for row in rows], dtype=np.float64
        )

    delta, gamma, theta, vega = (column(name) for name in GREEKS)
    priced = np.isfinite(delta) & np.isfinite(gamma) & np.isfinite(theta) & np.isfinite(vega)
    is_linear = np.isin(legs.instrument_type, list(LINEAR))
    # A stock's or future's own price: its mark, else the quoted underlying.
    price = np.where(is_linear & np.isnan(legs.mark), legs.underlying_price, legs.mark)
    units = legs.quantity * legs.multiplier
    nothing = np.full(size, np.nan)
    return LegPricing(
        years=nothing,
        iv=legs.broker_iv,
        iv_status=np.array([row["iv_status"] or "" for row in rows], dtype=np.str_),
        greeks_source=np.array([row["greeks_source"] or "" for row in rows], dtype=np.str_),
        price=price,
        delta=delta / units,
        gamma=gamma / units,
        theta=theta / units,
        vega=vega / units,
        position_delta=delta,
        position_gamma=gamma,
        position_theta=theta,
        position_vega=vega,
        position_value=column("current_value"),
        priced=priced,
    )


def _buying_power(
    portfolio: Portfolio, rows: Sequence[Mapping[str, Any]], group_ids: Sequence[str]
) -> tuple[Decimal | None, str | None, int, dict[str, Decimal | None]]:
    """Return (buying power used $, its source, unsupported groups, $ per group).

    The broker's maintenance requirement when a sync gave one; otherwise the
    sum of each strategy group's Reg-T requirement, leaving out (and counting)
    groups whose shape the rules do not cover or that lack a price.
    """
    account = REG_T_ACCOUNT.get(portfolio.account_type)
    members: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row, group_id in zip(rows, group_ids, strict=True):
        members[group_id].append(row)
    per_group: dict[str, Decimal | None] = {}
    unsupported = 0
    for group_id, group in members.items():
        if account is None:
            per_group[group_id] = None
            continue
        try:
            per_group[group_id] = group_buying_power(
                [_buying_power_leg(row) for row in group],
                account_type=account,
                strategy_type=group[0]["strategy_type"],
            )
        except UnsupportedGroupError:
            per_group[group_id] = None
            unsupported += 1

    if not portfolio.is_manual and portfolio.maintenance_requirement is not None:
        return portfolio.maintenance_requirement, "broker", unsupported, per_group
    if account is None:
        return None, None, unsupported, per_group
    total = sum((value for value in per_group.values() if value is not None), Decimal(0))
    return _cents(total), "reg_t", unsupported, per_group


def _buying_power_leg(row: Mapping[str, Any]) -> BuyingPowerLeg:
    is_option = row["instrument_type"] in OPTIONS
    price = row["mark"]
    underlying = row["underlying_price"]
    if not is_option:
        price = price if price is not None else underlying
        underlying = underlying if underlying is not None else price
    if price is None or underlying is None:
        raise UnsupportedGroupError("a leg without a price")
    return BuyingPowerLeg(
        instrument_type=row["instrument_type"],
        quantity=row["quantity"],
        multiplier=Decimal(row["multiplier"]),
        price=price,
        underlying_price=underlying,
        option_type=row["option_type"] or "",
        strike=row["strike_price"],
        expiration=row["expiration_date"],
    )


def _reconciliation(
    portfolio: Portfolio, rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Compare cash + the legs' values with the broker's net liq; None where not both.

    Books holding futures are skipped: a future's net liq effect is its P/L
    since the last settlement, which the legs do not carry.
    """
    broker = portfolio.net_liquidation_value
    if portfolio.is_manual or broker is None or portfolio.cash_balance is None:
        return None
    if any(row["instrument_type"] == FUTURE or row["current_value"] is None for row in rows):
        return None
    ours = portfolio.cash_balance + sum((row["current_value"] for row in rows), Decimal(0))
    fraction, flagged = reconcile_net_liq(ours, broker)
    return {
        "ours": _cents(ours),
        "broker": broker,
        "difference": _cents(ours - broker),
        "difference_fraction": float(fraction) if fraction.is_finite() else None,
        "flagged": flagged,
    }


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _with_cents(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "unrealized_pnl": _cents(row["unrealized_pnl"])}


# History -----------------------------------------------------------------------


def portfolio_history(
    *, portfolio: Portfolio, date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, Any]:
    """Return the nightly rows from ``date_from`` to ``date_to`` (New York dates), by date.

    Defaults: ``date_to`` today in New York, ``date_from`` 365 days earlier.
    Each row adds ``net_liq_change``, $ since the previous row in the range
    (None for the first, or where either net liq is unknown).
    """
    date_to = date_to or new_york_today()
    date_from = date_from or date_to - dt.timedelta(days=HISTORY_DEFAULT_DAYS)
    if date_from > date_to:
        raise ValidationError({"from": "Must be on or before `to`."})
    if (date_to - date_from).days > HISTORY_MAX_DAYS:
        raise ValidationError(
            {"from": f"The range from `from` to `to` may span at most {HISTORY_MAX_DAYS} days."}
        )
    rows = list(
        HistoricalMetric.objects.filter(portfolio=portfolio, date__range=(date_from, date_to))
        .order_by("date")
        .values(
            "date",
            "net_liquidation_value",
            "total_delta",
            "total_gamma",
            "total_theta",
            "total_vega",
            "beta_weighted_delta",
            "legs_unpriced",
            "backfilled",
        )
    )
    previous: Decimal | None = None
    for index, row in enumerate(rows):
        current = row["net_liquidation_value"]
        known = index > 0 and current is not None and previous is not None
        row["net_liq_change"] = current - previous if known else None
        previous = current
    return {
        "portfolio_id": portfolio.pk,
        "from": date_from,
        "to": date_to,
        "count": len(rows),
        "results": rows,
    }


# What-if -----------------------------------------------------------------------


def portfolio_what_if(
    *,
    portfolio: Portfolio,
    underlying_moves_pct: Sequence[float],
    iv_shift_points: Sequence[float],
    days_forward: int,
) -> dict[str, Any]:
    """Re-price the book on a grid of underlying moves (%) and IV shifts (points).

    Priced at the metrics' as-of time (the marks' time) plus ``days_forward``
    calendar days, in one vectorised call. Each cell: total model value and
    its P/L against today's model value ($, Decimal), and the greek totals.
    """
    rows = _leg_rows([portfolio.pk]).get(portfolio.pk, [])
    as_of = metrics_as_of(portfolio) or timezone.now()
    grid = price_scenarios(
        leg_inputs(rows),
        now=as_of,
        rate=settings.RISK_FREE_RATE,
        underlying_moves_pct=underlying_moves_pct,
        iv_shift_points=iv_shift_points,
        days_forward=days_forward,
    )
    # pnl = value - today's model value, in every cell.
    model_value = float(grid.value[0, 0] - grid.pnl[0, 0])
    scenarios = [
        {
            "underlying_move_pct": float(move),
            "iv_shift_points": float(shift),
            "value": _money(grid.value[i, j]),
            "pnl": _money(grid.pnl[i, j]),
            "delta": float(grid.delta[i, j]),
            "gamma": float(grid.gamma[i, j]),
            "theta": float(grid.theta[i, j]),
            "vega": float(grid.vega[i, j]),
        }
        for i, move in enumerate(grid.underlying_moves_pct)
        for j, shift in enumerate(grid.iv_shift_points)
    ]
    return {
        "portfolio_id": portfolio.pk,
        "as_of": as_of,
        "days_forward": days_forward,
        "underlying_moves_pct": [float(move) for move in grid.underlying_moves_pct],
        "iv_shift_points": [float(shift) for shift in grid.iv_shift_points],
        "model_value": _money(model_value),
        "legs": len(rows),
        "legs_unpriced": grid.legs_unpriced,
        "scenarios": scenarios,
    }


def _money(value: float) -> Decimal | None:
    number = float(value)
    return _cents(Decimal(repr(number))) if math.isfinite(number) else None


# Risk graph ----------------------------------------------------------------------

RISK_GRAPH_MOVES_PCT = tuple(float(m) for m in range(-20, 21))


def risk_graph(*, portfolio: Portfolio, group_id: str | None = None) -> dict[str, Any]:
    """Return P/L since open ($) across underlying moves: today (T+0) and at expiry.

    The what-if engine re-prices the legs (the group's, or the whole book's)
    with every underlying moved by each % of RISK_GRAPH_MOVES_PCT, IV unchanged;
    "at expiry" is the nearest expiry of the legs' options (T+0 when none).
    P/L since open = today's unrealised P/L + the scenario's change of value.
    Breakevens are the moves (%) where the expiry line crosses zero,
    interpolated; max profit and max loss are the best and worst of that line
    within the range.
    """
    rows = _leg_rows([portfolio.pk]).get(portfolio.pk, [])
    if group_id is not None:
        rows = [
            row
            for row in rows
            if group_id in (row["strategy_group_id"], f"leg-{row['id']}", f"position-{row['id']}")
        ]
    today = new_york_today()
    expiries = [
        row["expiration_date"]
        for row in rows
        if row["instrument_type"] in OPTIONS
        and row["expiration_date"] is not None
        and row["expiration_date"] >= today
    ]
    days_to_expiry = (min(expiries) - today).days if expiries else 0
    legs = leg_inputs(rows)
    as_of = metrics_as_of(portfolio) or timezone.now()
    moves = np.array(RISK_GRAPH_MOVES_PCT)
    unrealized = float(
        sum(
            (row["premium_received"] + row["current_value"])
            for row in rows
            if row["premium_received"] is not None and row["current_value"] is not None
        )
    )

    def curve(days: int) -> np.ndarray:
        grid = price_scenarios(
            legs,
            now=as_of,
            rate=settings.RISK_FREE_RATE,
            underlying_moves_pct=moves,
            iv_shift_points=[0.0],
            days_forward=days,
        )
        return unrealized + grid.pnl[:, 0]

    today_line = curve(0) if rows else np.zeros(moves.size)
    # A day past the expiry date: after its close, so the nearest expiry is worth its
    # intrinsic value wherever the clock stands today.
    expiry_line = curve(days_to_expiry + 1 if expiries else 0) if rows else np.zeros(moves.size)
    breakevens = []
    for i in range(moves.size - 1):
        a, b = expiry_line[i], expiry_line[i + 1]
        if np.isfinite(a) and np.isfinite(b) and (a < 0 <= b or b < 0 <= a) and a != b:
            breakevens.append(float(moves[i] + (moves[i + 1] - moves[i]) * (0 - a) / (b - a)))
    finite = np.isfinite(expiry_line)
    best = int(np.nanargmax(np.where(finite, expiry_line, np.nan))) if finite.any() else None
    worst = int(np.nanargmin(np.where(finite, expiry_line, np.nan))) if finite.any() else None
    return {
        "portfolio_id": portfolio.pk,
        "group_id": group_id,
        "legs": len(rows),
        "days_to_expiry": days_to_expiry,
        "underlying_moves_pct": list(RISK_GRAPH_MOVES_PCT),
        "pnl_today": [_money(v) for v in today_line],
        "pnl_at_expiry": [_money(v) for v in expiry_line],
        "breakevens_pct": breakevens,
        "max_profit_index": best,
        "max_loss_index": worst,
    }
