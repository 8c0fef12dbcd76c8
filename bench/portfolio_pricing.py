"""2. A 500-leg portfolio priced from the database: fetch, arrays, greeks, totals.

Ours, as the app composes it (this is metrics.services.positions_reprice
without its write, feeding the roll-up): under ``rls.as_user``
``metrics.stored_legs.stored_legs`` (one SELECT into pricing columns),
``metrics.pricing.price_legs`` (IV from each mark, then greeks) and
``metrics.exposure.portfolio_exposure`` (totals, beta-weighted delta, exact
P/L, and the by-underlying and by-strategy breakdowns the floor skips).

Floor: the raw fetch (psycopg, the same RLS context, only the columns the
maths needs, cast to float8 by the server) into one float array, then the
minimal kernel: a vectorised Newton IV solve from the inflection point, the
minimal BSM kernel of benchmark 1, and the six sums. Both give the same
totals (checked). Target: ours ≤ 2× the floor.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import psycopg

from bench import seed
from bench.greeks import DAYS_PER_YEAR, RATE, floor_kernel
from bench.runner import Context, Result, interleaved, median, timed

TARGET = 2.0
LEGS = 500
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86_400.0

FLOOR_SQL = """
SELECT
    strike_price::float8,
    -- The session's close: 13:00 on the NYSE's early-close days (passed in), else 16:00.
    extract(epoch FROM (expiration_date + CASE WHEN expiration_date = ANY(%s::date[])
        THEN time '13:00' ELSE time '16:00' END) AT TIME ZONE 'America/New_York'),
    mark::float8,
    underlying_price::float8,
    (quantity * multiplier)::float8,
    coalesce(dividend_yield, 0),
    (option_type = 'C')::int,
    (instrument_type IN ('Equity Option', 'Future Option'))::int,
    implied_volatility,
    beta,
    (premium_received + current_value)::float8
FROM positions WHERE portfolio_id = %s
"""


def _early_closes(today: dt.date) -> list[dt.date]:
    """The NYSE's 13:00 closes from last year to three years out (the seed's expiries)."""
    from metrics.market_calendar import is_early_close

    start = today.replace(month=1, day=1) - dt.timedelta(days=366)
    days = (start + dt.timedelta(days=offset) for offset in range(5 * 366))
    return [day for day in days if is_early_close(day)]


def floor_implied_volatility(price, spot, strike, years, dividend_yield, is_call, rate=RATE):
    """Newton on sigma from the inflection point (monotone convergence), all legs at once."""
    forward = spot * np.exp((rate - dividend_yield) * years)
    discount = np.exp(-rate * years)
    sign = np.where(is_call, 1.0, -1.0)
    intrinsic = np.maximum(sign * (forward - strike), 0.0) * discount
    ceiling = np.where(is_call, forward, strike) * discount
    solvable = (price > intrinsic) & (price < ceiling)
    sigma = np.sqrt(2.0 * np.abs(np.log(forward / strike)) / years)
    sigma = np.clip(sigma, 0.05, 5.0)
    for _ in range(50):
        model, _, _, _, vega = floor_kernel(spot, strike, years, dividend_yield, sigma, is_call)
        step = (model - price) / (vega * 100.0)
        step = np.where(solvable, step, 0.0)
        sigma = np.clip(sigma - step, 1e-4, 5.0)
        if np.all(np.abs(step) <= 1e-12 * sigma):
            break
    return sigma, solvable


def floor_price(
    conn: psycopg.Connection,
    user_id: str,
    portfolio_id: int,
    now: dt.datetime,
    early_closes: list[dt.date],
):
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.user_id', %s, true)", [user_id])
        cursor.execute(FLOOR_SQL, [early_closes, portfolio_id])
        rows = cursor.fetchall()
    conn.commit()
    data = np.array(rows, dtype=np.float64)
    strike, expiry, mark, spot, units, carry, is_call, is_option, broker_iv, beta, pnl = data.T
    options = is_option == 1.0
    years = (expiry[options] - now.timestamp()) / SECONDS_PER_YEAR
    call = is_call[options] == 1.0
    sigma, solvable = floor_implied_volatility(
        mark[options], spot[options], strike[options], years, carry[options], call
    )
    sigma = np.where(solvable, sigma, broker_iv[options])
    _, delta, gamma, theta, vega = floor_kernel(
        spot[options], strike[options], years, carry[options], sigma, call
    )
    position = np.zeros((4, len(rows)))
    position[0] = units  # stock: one share-equivalent per share
    position[:, options] = np.array([delta, gamma, theta, vega]) * units[options]
    bwd = position[0] * beta * np.where(options, spot, mark) / float(seed.SPY_PRICE)
    return {
        "delta": position[0].sum(),
        "gamma": position[1].sum(),
        "theta": position[2].sum(),
        "vega": position[3].sum(),
        "beta_weighted_delta": bwd.sum(),
        "unrealized_pnl": pnl.sum(),
    }


STAGES = ("fetch (stored_legs, as_user)", "price_legs", "portfolio_exposure")


def ours_price(user_id: str, portfolio, now: dt.datetime, stage_times: dict | None = None):
    from django.conf import settings

    from metrics.exposure import portfolio_exposure
    from metrics.pricing import price_legs
    from metrics.stored_legs import stored_legs
    from thetavue_site import rls

    stages = [time.perf_counter()]
    with rls.as_user(user_id):
        legs = stored_legs(portfolio_id=portfolio.pk)
    stages.append(time.perf_counter())
    pricing = price_legs(legs.inputs, now=now, rate=settings.RISK_FREE_RATE)
    stages.append(time.perf_counter())
    exposure = portfolio_exposure(
        legs.inputs,
        pricing,
        underlying=legs.underlying,
        group_ids=legs.strategy_group_ids,
        strategy_types=legs.strategy_types,
        spy_price=float(portfolio.spy_price),
        net_liquidation_value=portfolio.net_liquidation_value,
        premium_received=legs.premium_received,
        current_value=legs.current_value,
    )
    stages.append(time.perf_counter())
    if stage_times is not None:
        for name, start, end in zip(STAGES, stages[:-1], stages[1:], strict=True):
            stage_times.setdefault(name, []).append(end - start)
    return {
        "delta": exposure.total_delta,
        "gamma": exposure.total_gamma,
        "theta": exposure.total_theta,
        "vega": exposure.total_vega,
        "beta_weighted_delta": exposure.beta_weighted_delta,
        "unrealized_pnl": float(exposure.unrealized_pnl),
        "legs_unpriced": exposure.legs_unpriced,
    }


def run(ctx: Context) -> list[Result]:
    from django.conf import settings
    from django.utils import timezone

    from thetavue_site import rls

    assert settings.RISK_FREE_RATE == RATE, "the floor prices at the app's rate"
    today = timezone.localdate()
    early_closes = _early_closes(today)
    with rls.as_service():
        (user_id,) = seed.make_users("pricing", 1)
        portfolio = seed.make_portfolio(user_id=user_id, name="Pricing", account_id="PRICE0001")
        seed.insert_legs(portfolio_id=portfolio.pk, legs=seed.book_legs(LEGS, seed=2, today=today))
    seed.analyze()
    now = timezone.now()
    repeat = 7 if ctx.quick else 41

    with psycopg.connect(ctx.env.database_url) as conn:
        ours_times, floor_times = interleaved(
            lambda: ours_price(user_id, portfolio, now),
            lambda: floor_price(conn, user_id, portfolio.pk, now, early_closes),
            repeat=repeat,
            warmup=2,
        )
        ours_totals = ours_price(user_id, portfolio, now)
        floor_totals = floor_price(conn, user_id, portfolio.pk, now, early_closes)
        stage_times: dict[str, list[float]] = {}
        fetch_times = []
        for _ in range(repeat):
            ours_price(user_id, portfolio, now, stage_times)
            fetch_times.append(
                timed(lambda: _fetch_only(conn, user_id, portfolio.pk, early_closes))[0]
            )
    worst = max(
        abs(ours_totals[key] - floor_totals[key]) / max(abs(floor_totals[key]), 1.0)
        for key in floor_totals
    )
    return [
        Result(
            name="2 price 500-leg book from DB",
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            checks={"same totals": worst < 1e-6},
            details={
                "legs": LEGS,
                "runs": repeat,
                "ours_totals": ours_totals,
                "floor_totals": floor_totals,
                "max_relative_difference": worst,
                "ours_stage_medians_s": {k: median(v) for k, v in stage_times.items()},
                "floor_fetch_only_s": median(fetch_times),
            },
        )
    ]


def _fetch_only(conn, user_id, portfolio_id, early_closes):
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.user_id', %s, true)", [user_id])
        cursor.execute(FLOOR_SQL, [early_closes, portfolio_id])
        cursor.fetchall()
    conn.commit()
