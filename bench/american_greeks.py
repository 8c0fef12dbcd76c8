"""1d. American greeks and implied volatility for 100,000 legs (metrics.american).

Ours: ``metrics.american.american_greeks`` (price, delta and gamma analytic
from the QD+ exercise boundary, theta from the Black-Scholes equation, vega
and rho by forward bumps that warm-start the boundary) on the legs of row
1a, then ``american_implied_volatility`` from their American prices
(computed once, untimed, at the true volatility). Floor: row 1a's minimal
European Black-Scholes-Merton kernel on the same legs, fastest of its
layouts, measured in this run. Target: ours <= 5x the floor (the issue's);
checks: price -> IV -> price round trip within 1e-6 per share on every
solved leg, and every leg solved except those priced at immediate exercise
(where any volatility fits).

Why the target is out of reach: the floor is one closed-form evaluation per
leg. An American leg costs a boundary solve (Halley steps on QD+'s equation
at ``american_boundary.NODES`` nodes) and the premium integral
(``american_boundary.PRICE_POINTS`` points), each node step or point about
one closed form; greeks need three such evaluations (base, vega and rho
bumps), the implied volatility four to five (secant steps).

Quick mode: 10,000 legs (floor on the same legs).
"""

from __future__ import annotations

import numpy as np

from bench.greeks import RATE, floor_kernel, floor_kernel_blocked, floor_kernel_in_place, make_legs
from bench.runner import Context, Result, median, timed

NAME = "american_greeks"
TARGET = 5.0
ROUND_TRIP_TOLERANCE = 1e-6


def run(ctx: Context) -> list[Result]:
    from metrics import american, american_boundary

    size = 10_000 if ctx.quick else 100_000
    legs = make_legs(size)
    args = tuple(
        legs[name] for name in ("spot", "strike", "years", "dividend_yield", "sigma", "is_call")
    )
    american_prices = american.american_price(
        spot=legs["spot"],
        strike=legs["strike"],
        years=legs["years"],
        rate=RATE,
        carry=RATE - legs["dividend_yield"],
        sigma=legs["sigma"],
        is_call=legs["is_call"],
    )

    def greeks():
        return american.american_greeks(
            spot=legs["spot"],
            strike=legs["strike"],
            years=legs["years"],
            rate=RATE,
            carry_offset=legs["dividend_yield"],
            sigma=legs["sigma"],
            is_call=legs["is_call"],
        )

    def implied():
        return american.american_implied_volatility(
            price=american_prices,
            spot=legs["spot"],
            strike=legs["strike"],
            years=legs["years"],
            rate=RATE,
            carry_offset=legs["dividend_yield"],
            is_call=legs["is_call"],
        )

    # One timed run of each half (after first-call costs are paid on a small
    # slice), floors around it.
    american.american_greeks(
        spot=legs["spot"][:64],
        strike=legs["strike"][:64],
        years=legs["years"][:64],
        rate=RATE,
        carry_offset=legs["dividend_yield"][:64],
        sigma=legs["sigma"][:64],
        is_call=legs["is_call"][:64],
    )
    layouts = {
        "whole_arrays": floor_kernel,
        "8192_blocks": floor_kernel_blocked,
        "8192_blocks_in_place": floor_kernel_in_place,
    }
    floor_times = {label: [] for label in layouts}

    def floors(rounds: int) -> None:
        for _ in range(rounds):
            for label, kernel in layouts.items():
                floor_times[label].append(timed(lambda kernel=kernel: kernel(*args))[0])

    floors(5)
    greeks_seconds, values = timed(greeks)
    floors(5)
    iv_seconds, solved_iv = timed(implied)
    floors(5)
    floor_medians = {label: median(times) for label, times in floor_times.items()}
    floor_layout = min(floor_medians, key=floor_medians.get)
    floor = floor_medians[floor_layout]

    solved = solved_iv.status == "solved"
    sign = np.where(legs["is_call"], 1.0, -1.0)
    exercised = american_prices <= np.maximum(sign * (legs["spot"] - legs["strike"]), 0.0)
    repriced = american.american_price(
        spot=legs["spot"][solved],
        strike=legs["strike"][solved],
        years=legs["years"][solved],
        rate=RATE,
        carry=RATE - legs["dividend_yield"][solved],
        sigma=solved_iv.sigma[solved],
        is_call=legs["is_call"][solved],
    )
    round_trip = float(np.max(np.abs(repriced - american_prices[solved])))
    european = floor_kernel(*args)[0]
    return [
        Result(
            name="1d american greeks+IV",
            ours=greeks_seconds + iv_seconds,
            floor=floor,
            target=TARGET,
            checks={
                "round trip ≤ 1e-6": round_trip <= ROUND_TRIP_TOLERANCE,
                "all solved but exercised": bool(np.all(solved | exercised)),
                "american ≥ european": bool(np.all(values.price >= european - 1e-9)),
            },
            details={
                "legs": size,
                "greeks_seconds": greeks_seconds,
                "implied_volatility_seconds": iv_seconds,
                "floor_is": "row 1a's European greeks kernel on the same legs, this run",
                "floor_layout": floor_layout,
                "floor_seconds_by_layout": floor_medians,
                "model": "QD+ boundary, early-exercise premium integral",
                "boundary_nodes": american_boundary.NODES,
                "premium_quadrature_points": american_boundary.PRICE_POINTS,
                "qd_plus_tolerance": american_boundary.QD_PLUS_TOLERANCE,
                "solved": int(np.count_nonzero(solved)),
                "exercised": int(np.count_nonzero(exercised)),
                "max_round_trip_error_per_share": round_trip,
            },
        )
    ]
