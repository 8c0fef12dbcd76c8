"""Portfolio dashboards: the overview of every portfolio ("/") and one portfolio's page.

Every read starts from the user's portfolios (another trader's portfolio is a
404) and costs a fixed number of queries whatever the number of legs: the
figures come from the selectors' aggregated reads (portfolios.selectors,
metrics.selectors), never from a query per leg.

Units and signs (DESIGN.md §5): money in $, credit > 0; delta in share
equivalents (short put > 0); theta in $ per calendar day (short premium > 0);
vega in $ per +1 vol point; beta-weighted delta in SPY shares and in $.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from brokers.selectors import latest_runs, sync_state
from metrics import selectors as metrics_selectors
from portfolios import selectors
from portfolios.models import Portfolio
from thetavue_site.svg_charts import Series, line_chart, risk_chart, sparkline

SPARKLINE_DAYS = 30
# A strategy this many calendar days or fewer from expiry is shown as a warning.
EXPIRY_WARN_DAYS = 7
# A close older than this (a long weekend is 4 days) does not make a "day" change.
MAX_CLOSE_AGE_DAYS = 5
WHAT_IF_MAX_MOVES = 21
WHAT_IF_MAX_SHIFTS = 9
WHAT_IF_MAX_DAYS = 365
NUMBER_LIST = re.compile(r"[\s,;]+")


# Reads -------------------------------------------------------------------------------


def previous_close(
    history: list[tuple[dt.date, Decimal]], today: dt.date
) -> tuple[dt.date, Decimal] | None:
    """Return the last close before today, if recent enough to call the change "today's".

    Today's own snapshot (the first sync's, or tonight's once it is taken) is
    not a close to compare with: the change stays the day's, not "since 17:15".
    """
    earlier = [point for point in history if point[0] < today]
    if not earlier:
        return None
    date, net_liq = earlier[-1]
    return (date, net_liq) if (today - date).days <= MAX_CLOSE_AGE_DAYS else None


def _fraction(part, whole) -> float | None:
    if part is None or whole in (None, 0):
        return None
    return float(part) / float(whole)


def _sum_known(values) -> Any:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


# Overview ----------------------------------------------------------------------------


@require_GET
@login_required
def overview(request):
    """Every portfolio's headline figures, with totals and sync status."""
    scope = selectors.portfolio_list_for_user(user=request.user).order_by("name", "id")
    portfolios = list(scope.select_related("broker_connection"))
    figures = metrics_selectors.portfolio_metrics_many(portfolios=portfolios)
    today = selectors.market_today()
    history = metrics_selectors.net_liq_history_recent(
        portfolio_ids=[p.pk for p in portfolios], today=today, days=SPARKLINE_DAYS
    )
    runs = latest_runs(connection_ids={p.broker_connection_id for p in portfolios})
    rows = []
    for portfolio, metrics in zip(portfolios, figures, strict=True):
        points = history.get(portfolio.pk, [])
        close = previous_close(points, today)
        net_liq = metrics["net_liquidation_value"]
        day_change = None
        if close is not None and net_liq is not None:
            day_change = net_liq - close[1]
        rows.append(
            {
                "portfolio": portfolio,
                "m": metrics,
                "day_change": day_change,
                "day_change_pct": _fraction(day_change, close and close[1]),
                "close_date": close and close[0],
                "trend": sparkline(
                    values=[float(value) for _, value in points]
                    + ([float(net_liq)] if net_liq is not None else []),
                    label=f"{portfolio.name}: net liq over the last {SPARKLINE_DAYS} days",
                ),
                "bp_pct": _fraction(metrics["buying_power_used"], net_liq),
                "sync": sync_state(
                    connection=portfolio.broker_connection,
                    run=runs.get(portfolio.broker_connection_id),
                    compact=True,
                ),
            }
        )
    totals = {
        "net_liquidation_value": _sum_known(r["m"]["net_liquidation_value"] for r in rows),
        "day_change": _sum_known(r["day_change"] for r in rows),
        "total_delta": _sum_known(r["m"]["total_delta"] for r in rows),
        "total_gamma": _sum_known(r["m"]["total_gamma"] for r in rows),
        "total_theta": _sum_known(r["m"]["total_theta"] for r in rows),
        "total_vega": _sum_known(r["m"]["total_vega"] for r in rows),
        "beta_weighted_delta": _sum_known(r["m"]["beta_weighted_delta"] for r in rows),
        "beta_weighted_delta_dollars": _sum_known(
            r["m"]["beta_weighted_delta_dollars"] for r in rows
        ),
        "buying_power_used": _sum_known(r["m"]["buying_power_used"] for r in rows),
        "buying_power_available": _sum_known(r["m"].get("buying_power_available") for r in rows),
        "pnl_open": _sum_known(r["m"]["pnl_open"] for r in rows),
        "pnl_day": _sum_known(r["m"]["pnl_day"] for r in rows),
    }
    totals["theta_over_net_liq"] = _fraction(totals["total_theta"], totals["net_liquidation_value"])
    totals["bp_pct"] = _fraction(totals["buying_power_used"], totals["net_liquidation_value"])
    return render(
        request,
        "portfolios/overview.html",
        {
            "rows": rows,
            "totals": totals,
            "nav": "overview",
        },
    )


# One portfolio -----------------------------------------------------------------------


class WhatIfForm(forms.Form):
    """A what-if grid: underlying moves (%), IV shifts (vol points), days forward."""

    moves = forms.CharField(
        label="Underlying moves, %",
        initial="-10, -5, -2, 0, 2, 5, 10",
        help_text="Comma-separated, −95 to 500.",
    )
    iv_shifts = forms.CharField(
        label="IV shifts, vol points",
        initial="-5, 0, 5",
        help_text="Comma-separated, −100 to 500.",
    )
    days_forward = forms.IntegerField(
        label="Days forward", initial=0, min_value=0, max_value=WHAT_IF_MAX_DAYS
    )

    @staticmethod
    def _numbers(text: str, *, low: float, high: float, most: int) -> list[float]:
        parts = [part for part in NUMBER_LIST.split(text.replace("\u2212", "-").strip()) if part]
        if not parts:
            raise forms.ValidationError("Give at least one number.")
        if len(parts) > most:
            raise forms.ValidationError(f"At most {most} values.")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise forms.ValidationError("Numbers only, separated by commas.") from None
        if any(not (low <= number <= high) for number in numbers):
            raise forms.ValidationError(f"Each value must be from {low:g} to {high:g}.")
        return sorted(set(numbers))

    def clean_moves(self):
        return self._numbers(self.cleaned_data["moves"], low=-95, high=500, most=WHAT_IF_MAX_MOVES)

    def clean_iv_shifts(self):
        return self._numbers(
            self.cleaned_data["iv_shifts"], low=-100, high=500, most=WHAT_IF_MAX_SHIFTS
        )


def _portfolio_for(request, pk: int) -> Portfolio:
    scope = selectors.portfolio_list_for_user(user=request.user)
    return get_object_or_404(scope.select_related("broker_connection"), pk=pk)


def _history_charts(portfolio: Portfolio) -> dict[str, Any]:
    history = metrics_selectors.portfolio_history(portfolio=portfolio, date_from=None, date_to=None)
    rows = history["results"]
    if not rows:
        return {"count": 0}
    dates = [row["date"] for row in rows]

    def column(name):
        return [None if row[name] is None else float(row[name]) for row in rows]

    def usd_axis(value: float) -> str:
        return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:,.2f}"

    return {
        "count": len(rows),
        "first": dates[0],
        "last": dates[-1],
        "backfilled": sum(1 for row in rows if row["backfilled"]),
        "net_liq": line_chart(
            title="Net liquidation value, $",
            dates=dates,
            series=_net_liq_series(rows),
            value_format=usd_axis,
        ),
        "bwd": line_chart(
            title="Beta-weighted delta, SPY shares",
            dates=dates,
            series=[Series("BWD", column("beta_weighted_delta"), "series-b")],
            value_format=lambda v: f"{v:,.0f} sh",
            zero_line=True,
        ),
        "theta": line_chart(
            title="Theta, $ per day",
            dates=dates,
            series=[Series("Theta", column("total_theta"), "series-c")],
            value_format=lambda v: f"${v:,.0f}/d",
            zero_line=True,
        ),
    }


def _net_liq_series(rows: list[dict]) -> list[Series]:
    """Net liq as measured, and (dashed) as the broker reported it before the first sync.

    The broker's line runs up to the first measured day, so the two join.
    """
    measured = [
        None
        if row["backfilled"] or row["net_liquidation_value"] is None
        else float(row["net_liquidation_value"])
        for row in rows
    ]
    series = [Series("Net liq", measured, "series-a")]
    if any(row["backfilled"] for row in rows):
        first_measured = next((i for i, v in enumerate(measured) if v is not None), len(rows))
        broker = [
            float(row["net_liquidation_value"])
            if (row["backfilled"] or i == first_measured)
            and row["net_liquidation_value"] is not None
            and i <= first_measured
            else None
            for i, row in enumerate(rows)
        ]
        # A short name: the legend is one line of the chart, and a phone has ~300 px for it.
        series.insert(0, Series("Backfilled", broker, "series-backfill"))
    return series


def _risk_chart(portfolio: Portfolio, group_id: str | None, title: str):
    """Draw the what-if engine's risk graph of the book (or one group) as SVG."""
    # The graph moves only with the legs (sync version, edits) and the day; called
    # after the owner check, so the key is never read for another trader's book.
    key = (
        f"risk-graph:{portfolio.pk}:{portfolio.sync_version}:{portfolio.updated_at.isoformat()}:"
        f"{selectors.market_today().isoformat()}:{group_id or ''}"
    )
    graph = cache.get(key)
    if graph is None:
        graph = metrics_selectors.risk_graph(portfolio=portfolio, group_id=group_id)
        cache.set(key, graph, timeout=900)
    if not graph["legs"]:
        return None

    def values(key):
        return [None if v is None else float(v) for v in graph[key]]

    def usd(value: float) -> str:
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return f"{sign}${abs(value):,.0f}"

    expiry = values("pnl_at_expiry")
    marks = []
    if graph["max_profit_index"] is not None:
        best = expiry[graph["max_profit_index"]]
        marks.append((f"max {usd(best)}", graph["max_profit_index"], best))
    if graph["max_loss_index"] is not None:
        worst = expiry[graph["max_loss_index"]]
        marks.append((f"max {usd(worst)}", graph["max_loss_index"], worst))
    days = graph["days_to_expiry"]
    return {
        "graph": graph,
        "svg": risk_chart(
            title=title,
            moves_pct=graph["underlying_moves_pct"],
            series=[
                Series(f"At expiry ({days}d)" if days else "At expiry", expiry, "series-a"),
                Series("Today (T+0)", values("pnl_today"), "series-b"),
            ],
            breakevens_pct=graph["breakevens_pct"],
            marks=marks,
            value_format=usd,
        ),
    }


@require_GET
@login_required
def portfolio_risk_graph(request, pk: int):
    """One strategy group's risk graph (?group=<id>), as a fragment htmx swaps in."""
    portfolio = _portfolio_for(request, pk)
    group_id = request.GET.get("group") or None
    if group_id is not None and len(group_id) > 100:
        return HttpResponseBadRequest("group: at most 100 characters.")
    risk = _risk_chart(portfolio, group_id, "P/L of this strategy across underlying moves, $")
    return render(request, "portfolios/_risk_graph.html", {"risk": risk, "portfolio": portfolio})


def _book_groups(portfolio: Portfolio) -> list[dict]:
    """The book grouped by strategy, cached per sync version and market day.

    Grouping re-runs strategy risk per group; the legs only change with the
    version (syncs and manual edits bump it) and DTE with the day. Called after
    the owner check, so the key is never read for another trader's portfolio.
    """
    key = (
        f"book-groups:v2:{portfolio.pk}:{portfolio.sync_version}:"
        f"{portfolio.updated_at.isoformat()}:{selectors.market_today().isoformat()}"
    )
    groups = cache.get(key)
    if groups is None:
        groups = selectors.strategy_groups(portfolio=portfolio)
        cache.set(key, groups, timeout=900)
    return groups


def _detail_context(request, portfolio: Portfolio, *, what_if=None, form=None) -> dict:
    groups = _book_groups(portfolio)
    metrics = metrics_selectors.portfolio_metrics(portfolio=portfolio)
    run = latest_runs(connection_ids=[portfolio.broker_connection_id]).get(
        portfolio.broker_connection_id
    )
    net_liq = metrics["net_liquidation_value"]
    legs_count = sum(group["legs_count"] for group in groups)
    return {
        "portfolio": portfolio,
        "m": metrics,
        "groups": groups,
        "legs_count": legs_count,
        "theta_pct": metrics.get("theta_over_net_liq"),
        "bp_pct": _fraction(metrics["buying_power_used"], net_liq),
        # A book whose broker sends no market metrics (a manual one) would show
        # two columns of dashes; they appear once any underlying has a figure.
        "iv_columns_shown": any(
            row.get("iv_rank") is not None or row.get("iv_percentile") is not None
            for row in metrics["by_underlying"]
        ),
        "net_credit": _sum_known(group["net_credit"] for group in groups),
        "history": _history_charts(portfolio),
        "risk": _risk_chart(portfolio, None, "P/L of the whole book across underlying moves, $"),
        "sync": sync_state(connection=portfolio.broker_connection, run=run),
        "what_if_form": form or WhatIfForm(),
        "what_if": what_if,
        "csv_url": f"/api/portfolio/{portfolio.pk}/positions/?format=csv",
        "render_day": selectors.market_today().isoformat(),
        "expiry_warn_days": EXPIRY_WARN_DAYS,
        "snapshot_time": settings.SNAPSHOT_TIME,
        "nav": "overview",
    }


@require_GET
@login_required
def portfolio_detail(request, pk: int):
    portfolio = _portfolio_for(request, pk)
    return render(request, "portfolios/detail.html", _detail_context(request, portfolio))


def _what_if_table(result: dict[str, Any]) -> dict[str, Any]:
    """Arrange the scenarios as rows of moves × columns of IV shifts."""
    cells = {
        (cell["underlying_move_pct"], cell["iv_shift_points"]): cell for cell in result["scenarios"]
    }
    shifts = result["iv_shift_points"]
    return {
        **result,
        "shifts": shifts,
        "rows": [
            {"move": move, "cells": [cells[(move, shift)] for shift in shifts]}
            for move in result["underlying_moves_pct"]
        ],
    }


@require_POST
@login_required
def portfolio_what_if(request, pk: int):
    """Re-price the book on the form's grid (nothing is stored); htmx swaps the table in."""
    portfolio = _portfolio_for(request, pk)
    form = WhatIfForm(request.POST)
    result = None
    if form.is_valid():
        result = _what_if_table(
            metrics_selectors.portfolio_what_if(
                portfolio=portfolio,
                underlying_moves_pct=form.cleaned_data["moves"],
                iv_shift_points=form.cleaned_data["iv_shifts"],
                days_forward=form.cleaned_data["days_forward"],
            )
        )
    context = {
        "portfolio": portfolio,
        "what_if": result,
        "what_if_form": form,
    }
    if request.htmx:
        return render(request, "portfolios/_what_if.html", context)
    return render(
        request,
        "portfolios/detail.html",
        _detail_context(request, portfolio, what_if=result, form=form),
    )
