"""Reads of portfolio metrics, always starting from the user's portfolios.

Units and signs (DESIGN.md §5): greeks per position and their totals (delta
in share-equivalents, a short put > 0; gamma per $1 of the underlying; theta in
$ per calendar day, short premium > 0; vega in $ per +1 vol point);
beta-weighted delta in SPY share-equivalents and in $ (x SPY price); money in
$ as Decimal (premium received > 0 is a credit, a short's value < 0).

Real-time totals are sums of the greeks stored on each leg by the sync that
priced it (or by ``services.positions_reprice`` for a manual book), the same
figures the positions endpoint shows and the nightly snapshot aggregates. A
leg without every greek in ``PRICED_GREEKS`` is left out of the totals and
counted. Legs, groups and buying power come from ``portfolios.book``, the
adapter compliance, the pages and the what-if read too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from metrics.buying_power import reconcile_net_liq
from metrics.cache import metrics_get_many, metrics_set_many
from metrics.exposure import portfolio_exposure
from metrics.models import HistoricalMetric
from metrics.pricing import LegInputs, LegPricing, price_scenarios
from portfolios.book import BOOK_COLUMNS, Book, book_rows, digest, leg_inputs, portfolio_book
from portfolios.instruments import FUTURE, LINEAR_INSTRUMENTS, OPTION_INSTRUMENTS, PRICED_GREEKS
from portfolios.models import Portfolio
from portfolios.selectors import market_today as new_york_today

CENT = Decimal("0.01")
SPY = "SPY"
HISTORY_DEFAULT_DAYS = 365
HISTORY_MAX_DAYS = 3660  # ten years and a little: about 2,520 rows at most

# The columns the metrics read: the book's (kept under this name for callers).
LEG_FIELDS = BOOK_COLUMNS


# Scope -------------------------------------------------------------------------


def metrics_as_of(portfolio: Portfolio) -> dt.datetime | None:
    """Return when the stored figures were produced: the last sync, or a manual edit."""
    return portfolio.updated_at if portfolio.is_manual else portfolio.synced_at


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
        rows = book_rows(portfolio_ids=[portfolio.pk for portfolio in missing])
        today = new_york_today()
        fresh = {
            portfolio: _metrics(
                digest(portfolio=portfolio, rows=rows.get(portfolio.pk, []), today=today)
            )
            for portfolio in missing
        }
        metrics_set_many(fresh)
        payloads.update({portfolio.pk: payload for portfolio, payload in fresh.items()})
    return [payloads[portfolio.pk] for portfolio in portfolios]


def _metrics(book: Book) -> dict[str, Any]:
    portfolio, rows = book.portfolio, book.rows
    legs = book.leg_inputs()
    pricing = stored_pricing(rows, legs)
    spy_price = _spy_price(portfolio, rows)
    # An option past its expiry that the broker still lists carries no risk:
    # out of the greek totals and buying power until the broker removes it.
    expired = book.expired_mask()
    unpriced = int((~pricing.priced & ~expired).sum())
    pricing = dataclasses.replace(pricing, priced=pricing.priced & ~expired)
    exposure = portfolio_exposure(
        legs,
        pricing,
        underlying=[row["underlying_symbol"] for row in rows],
        group_ids=book.leg_group_ids(),
        spy_price=None if spy_price is None else float(spy_price),
        net_liquidation_value=portfolio.net_liquidation_value,
        premium_received=[row["premium_received"] for row in rows],
        current_value=[row["current_value"] for row in rows],
        iv_rank=[row["iv_rank"] for row in rows],
        iv_percentile=[row["iv_percentile"] for row in rows],
    )
    buying_power = book.buying_power
    per_group = buying_power.groups
    group_of = {}
    for group in book.groups:
        for part in group.parts:
            group_of.setdefault(part.position_id, []).append(
                (group.group_id, part.quantity / _row_quantity(book, part.position_id))
            )
    pnl_by_group = _pnl_group_sums(rows, group_of)
    pnl_by_underlying = _pnl_sums(rows, [row["underlying_symbol"] for row in rows])
    pnl = _pnl_sums(rows, [""] * len(rows)).get("", _pnl_total([]))
    by_strategy = [
        {
            **row,
            **pnl_by_group.get(row["group_id"], _pnl_total([])),
            "buying_power_used": _group_figure(per_group, row["group_id"], "reduction"),
            "buying_power_requirement": _group_figure(per_group, row["group_id"], "requirement"),
        }
        for row in _by_group(book, legs, pricing, spy_price)
    ]
    bp_by_underlying: dict[str, Decimal] = defaultdict(Decimal)
    bp_known: dict[str, bool] = defaultdict(lambda: True)
    for row in by_strategy:
        value = row["buying_power_used"]
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
        "total_rho": exposure.total_rho,
        "beta_weighted_delta": exposure.beta_weighted_delta,
        "beta_weighted_delta_dollars": exposure.beta_weighted_delta_dollars,
        "theta_over_net_liq": exposure.theta_over_net_liq,
        "buying_power_used": buying_power.used,
        "buying_power_source": buying_power.source,
        "buying_power_requirement": buying_power.requirement,
        "buying_power_reduction": buying_power.reduction,
        "buying_power_unsupported_groups": buying_power.unsupported,
        "buying_power_estimated_groups": buying_power.estimated,
        "buying_power_available": portfolio.buying_power,
        "unrealized_pnl": _cents(exposure.unrealized_pnl),
        **pnl,
        "legs": exposure.legs,
        "legs_unpriced": unpriced,
        "legs_expired": int(expired.sum()),
        "legs_unsupported": portfolio.unsupported_legs,
        "legs_beta_missing": exposure.legs_beta_missing,
        "legs_beta_assumed": exposure.legs_beta_assumed,
        "legs_without_value": exposure.legs_without_value,
        "by_underlying": [_with_cents(row) for row in by_underlying],
        "by_strategy": [_with_cents(row) for row in by_strategy],
        "net_liq_reconciliation": _reconciliation(portfolio, rows),
    }


def _by_group(
    book: Book, legs: LegInputs, pricing: LegPricing, spy_price: Decimal | None
) -> list[dict[str, Any]]:
    """Break the book down by its groups, a split leg's figures shared pro rata.

    Each (group, leg) part becomes one row of the breakdown with the leg's
    greeks, value and premium scaled by the part's share of the leg, so the
    groups add up to the totals and every group (a short put split from a
    strangle too) has its row.
    """
    index = {row["id"]: position for position, row in enumerate(book.rows)}
    part_rows, fractions, group_ids, strategy_types = [], [], [], []
    for group in book.groups:
        for part in group.parts:
            position = index[part.position_id]
            part_rows.append(position)
            fractions.append(part.quantity / book.rows[position]["quantity"])
            group_ids.append(group.group_id)
            strategy_types.append(group.strategy_type)
    take = np.array(part_rows, dtype=np.intp)
    share = np.array([float(fraction) for fraction in fractions], dtype=np.float64)
    scaled = {"quantity", "position_delta", "position_gamma", "position_theta"}
    scaled |= {"position_vega", "position_value"}

    def pick(source):
        return {
            field.name: (
                getattr(source, field.name)[take] * share
                if field.name in scaled
                else getattr(source, field.name)[take]
            )
            for field in dataclasses.fields(source)
        }

    def money(values: list[Decimal | None]) -> list[Decimal | None]:
        return [
            None if values[row] is None else values[row] * fraction
            for row, fraction in zip(part_rows, fractions, strict=True)
        ]

    exposure = portfolio_exposure(
        LegInputs(**pick(legs)),
        LegPricing(**pick(pricing)),
        underlying=[book.rows[row]["underlying_symbol"] for row in part_rows],
        group_ids=group_ids,
        strategy_types=strategy_types,
        spy_price=None if spy_price is None else float(spy_price),
        net_liquidation_value=None,
        premium_received=money([row["premium_received"] for row in book.rows]),
        current_value=money([row["current_value"] for row in book.rows]),
    )
    return exposure.by_strategy


def _group_figure(per_group, group_id: str, name: str) -> Decimal | None:
    figures = per_group.get(group_id)
    return None if figures is None else getattr(figures, name)


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


def _row_quantity(book: Book, position_id: int) -> Decimal:
    for row in book.rows:
        if row["id"] == position_id:
            return row["quantity"]
    raise KeyError(position_id)


def _pnl_group_sums(
    rows: Sequence[Mapping[str, Any]], group_of: Mapping[int, list[tuple[str, Decimal]]]
) -> dict[str, dict]:
    """Return _pnl_total per group, a split leg's figures shared pro rata."""
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        for group_id, share in group_of.get(row["id"], []):
            members[group_id].append(
                {
                    name: None if row[name] is None else row[name] * share
                    for name in ("pnl_open", "pnl_day", "fees_since_open")
                }
            )
    return {key: _pnl_total(legs) for key, legs in members.items()}


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


def stored_pricing(rows: Sequence[Mapping[str, Any]], legs: LegInputs) -> LegPricing:
    """Wrap the stored per-position greeks as a LegPricing for ``portfolio_exposure``.

    A leg counts as priced when every greek in ``PRICED_GREEKS`` is stored.
    """
    size = len(rows)

    def column(name: str) -> np.ndarray:
        return np.array(
            [np.nan if row[name] is None else float(row[name]) for row in rows], dtype=np.float64
        )

    delta, gamma, theta, vega = (column(name) for name in PRICED_GREEKS)
    priced = np.isfinite(delta) & np.isfinite(gamma) & np.isfinite(theta) & np.isfinite(vega)
    is_linear = np.isin(legs.instrument_type, list(LINEAR_INSTRUMENTS))
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
        rho=column("rho") / units,
        position_rho=column("rho"),
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


def net_liq_history_recent(
    *, portfolio_ids: list[int], today: dt.date, days: int
) -> dict[int, list[tuple[dt.date, Decimal]]]:
    """Return each portfolio's nightly net liq ($) of the `days` before today, oldest first.

    One query for every portfolio; days without a figure are left out.
    """
    if not portfolio_ids:
        return {}
    rows = (
        HistoricalMetric.objects.filter(
            portfolio_id__in=portfolio_ids,
            date__gte=today - dt.timedelta(days=days),
            date__lt=today,
            net_liquidation_value__isnull=False,
        )
        .order_by("portfolio_id", "date")
        .values_list("portfolio_id", "date", "net_liquidation_value")
    )
    history: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for portfolio_id, date, net_liq in rows:
        history.setdefault(portfolio_id, []).append((date, net_liq))
    return history


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
    Expired options the broker still lists are left out, as from every risk total.
    """
    book = portfolio_book(portfolio=portfolio, today=new_york_today())
    rows = book.live_rows()
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
        "buying_power_used": book.buying_power.used,
        "buying_power_source": book.buying_power.source,
        "groups": book_group_summaries(book),
        "scenarios": scenarios,
    }


def book_group_summaries(book: Book) -> list[dict[str, Any]]:
    """Return each group's id, type, per-leg quantities and buying power ($)."""
    return [
        {
            "group_id": group.group_id,
            "strategy_type": group.strategy_type,
            "underlying_symbol": group.underlying_symbol,
            "legs": [
                {"position_id": part.position_id, "quantity": part.quantity} for part in group.parts
            ],
            "buying_power_requirement": group.requirement,
            "buying_power_reduction": group.buying_power_reduction,
        }
        for group in book.groups
    ]


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
    within the range. Expired options the broker still lists are left out:
    their payoff is settled, not a risk (an expired group's graph is empty).
    """
    today = new_york_today()
    book = portfolio_book(portfolio=portfolio, today=today)
    rows = book.live_rows()
    if group_id is not None:
        # The group's share of each leg it holds (a split leg counts pro rata).
        by_id = {row["id"]: row for row in rows}
        rows = []
        for group in book.groups:
            if group.group_id != group_id:
                continue
            for part in group.parts:
                row = by_id.get(part.position_id)
                if row is None:  # expired: no risk left
                    continue
                share = part.quantity / row["quantity"]
                rows.append(
                    {
                        **row,
                        "quantity": part.quantity,
                        "premium_received": None
                        if row["premium_received"] is None
                        else row["premium_received"] * share,
                        "current_value": None
                        if row["current_value"] is None
                        else row["current_value"] * share,
                    }
                )
    expiries = [
        row["expiration_date"]
        for row in rows
        if row["instrument_type"] in OPTION_INSTRUMENTS
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
