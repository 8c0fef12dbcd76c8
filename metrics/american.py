"""American option prices, greeks and implied volatility over NumPy arrays.

Model (``metrics.american_boundary``): Li's QD+ exercise boundary (2010),
solved at a few Chebyshev nodes in sqrt(time) and interpolated as Andersen,
Lake and Offengelden (2016) do, and the price as the European price plus
the early-exercise premium integrated over that boundary (Gauss-Legendre);
the method of QuantLib's ``QdPlusAmericanEngine`` with fewer nodes. Generalised
Black-Scholes with cost of carry b:

- equity, ETF and index options: ``b = r - q`` with ``q`` the continuous
  dividend yield (discrete dividends are out of scope: a stock about to go
  ex-dividend is priced as if it paid a yield);
- futures options: ``b = 0`` (Black's model; the futures price is the spot).

Calls are priced as puts by put-call symmetry, C(S, K, r, q) = P(K, S, q, r).
Closed form (European) where early exercise is never optimal (a call with
``b >= r``, a put at a rate <= 0) or where the premium is provably under
1e-12 per share. Every price is at least the European price and immediate
exercise; a leg at or under the boundary is exercised (intrinsic value).

Why not Bjerksund-Stensland 2002 or Barone-Adesi-Whaley: BS2002, tried
first, missed QuantLib's finite-difference engine by up to 4 % in price and
0.27 in delta on long-dated, high- and low-volatility puts. QD+ holds the
2,000-contract grid of metrics/tests/test_american.py within about half of
max(0.5 %, $0.01) in price and 0.005 in delta. A 101-step lattice was as accurate
but about 15 times slower (bench row 1d: some 2,500x the European floor,
against some 170x).

Greeks (vectorised over legs):

- delta and gamma: analytic, from the same boundary as the price (the
  boundary does not depend on the spot);
- theta: from the Black-Scholes equation the price satisfies where the leg
  is not exercised, dV/dt = rV - bS delta - sigma^2 S^2 gamma / 2, as $ per
  calendar day;
- where immediate exercise is optimal: delta +/-1, gamma and theta 0;
- vega and rho: the derivative of the price's formula (European price plus
  the premium integral) in the volatility or the rate, analytic, with the
  boundary's own response by implicit differentiation of QD+'s equation
  at the solved boundary (its inputs moved by ``SIGMA_STEP`` or
  ``RATE_STEP``, 1e-7 absolute, in a difference taken at the fixed
  boundary). Vega in $ per volatility point; rho in $ per percentage point
  of the rate, for equity options with the carry moving with the rate, for
  futures options with it held at 0.

Implied volatility is solved with this same model (safeguarded secant steps
from the European IV of the mark less the early-exercise premium), so
price -> IV -> price round-trips. Units as in ``metrics.greeks``: per share
or futures unit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from metrics import american_boundary, greeks
from metrics.greeks import SIGMA_MAX, SIGMA_MIN, Floats, Greeks, ImpliedVolatility, IVStatus

# Steps of the difference in QD+'s equation, at the fixed boundary, that
# gives the boundary's response to the volatility and the rate (vega and rho
# are otherwise analytic). The equation is smooth in its inputs and the
# difference cancels the solve's residual, so the step can be this small:
# the error is of the order of the step (1e-4 left rho 10 % off near exercise).
SIGMA_STEP = 1e-7
RATE_STEP = 1e-7
# Within this of immediate exercise (per share) a leg is taken as exercised: theta 0.
_EXERCISED_TOLERANCE = 1e-9
# Per share, times the larger of spot and strike over $1 (the boundary is
# solved relative to the strike): well inside a 1e-6 round trip.
_IV_PRICE_TOLERANCE = 1e-10
_IV_MAX_ITERATIONS = 80
# Legs whose early-exercise premium is provably under this (per share) take
# the closed form: well under the IV's price tolerance, so price -> IV ->
# price still round-trips.
_NEGLIGIBLE_PREMIUM = 1e-12

_CODE = {status: np.int8(code) for code, status in enumerate(greeks.IV_STATUSES)}
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _european(S, K, T, r, b, sigma, is_call):
    """Return the generalised Black-Scholes (price, delta, gamma) with carry b (q = r - b)."""
    sign = np.where(is_call, 1.0, -1.0)
    vol_t = sigma * np.sqrt(T)
    d1 = (np.log(S / K) + (b + 0.5 * sigma * sigma) * T) / vol_t
    d2 = d1 - vol_t
    carry = np.exp((b - r) * T)
    delta = sign * carry * ndtr(sign * d1)
    price = S * delta - sign * K * np.exp(-r * T) * ndtr(sign * d2)
    gamma = carry * np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI / (S * vol_t)
    return price, delta, gamma


def _premium_bound(x, r, q, sigma, years):
    """Return an upper bound on the put's early-exercise premium over the strike.

    The premium is the integral over t in (0, T) of r e^{-rt} N(-d-) less a
    non-negative dividend term, d- taken at the boundary, which never exceeds
    X = min(1, r / q); so it is at most r T max_t N(-d-(t)) with d- at X.
    With a = ln(x / X) > 0 and c = r - q - sigma^2 / 2, -d- sigma = -(a / sqrt(t)
    + c sqrt(t)), largest at t = a / c when c > 0 and that is before T, else
    at T.
    """
    a = np.log(x) - np.log(np.where(q > r, r / np.where(q > r, q, 1.0), 1.0))
    c = r - q - 0.5 * sigma * sigma
    t = np.where((a > 0.0) & (c > 0.0) & (a < c * years), a / np.where(c > 0.0, c, 1.0), years)
    root = np.sqrt(t)
    bound = r * years * ndtr(-(a / root + c * root) / sigma)
    return np.where(a > 0.0, bound, np.inf)


class _Evaluation(NamedTuple):
    price: Floats
    delta: Floats
    gamma: Floats
    boundary: Floats
    changes: tuple[Floats, ...] = ()


def _evaluate(
    S,
    K,
    T,
    r,
    b,
    sigma,
    is_call,
    start=None,
    *,
    derivatives=True,
    tolerance=american_boundary.QD_PLUS_TOLERANCE,
    directions=(),
):
    """Return (price, delta, gamma, boundary, changes) for legs with T, sigma, S, K > 0.

    A call is the put with spot and strike swapped and the rate and dividend
    yield swapped (put-call symmetry), so every leg runs through the put's
    boundary. Closed form (European) instead: legs whose put has a rate <= 0
    (a call with carry >= rate, a put at a rate <= 0), never exercised early,
    and legs whose early-exercise premium is provably under
    ``_NEGLIGIBLE_PREMIUM`` per share (``_premium_bound``). ``start`` (a
    boundary returned before, for nearby inputs) warm-starts the boundary's
    solve. The returned boundary is NaN on closed-form legs; without
    ``derivatives`` delta and gamma are NaN on the others.

    ``directions``: (Direction in the put's inputs, without its boundary
    part; step for the boundary's forward difference) pairs; ``changes`` has
    the price's change per unit step along each, per share.
    """
    q = r - b
    put_rate = np.where(is_call, q, r)
    put_yield = np.where(is_call, r, q)
    x = np.where(is_call, K / S, S / K)
    scale = np.where(is_call, S, K)  # the put's strike
    early = (put_rate > 0.0) & np.isfinite(x) & np.isfinite(sigma)
    # The bound holds for a put whose yield is >= 0 (with q < 0 the premium
    # gains a q S term it does not count): other legs always take QD+.
    candidates = np.flatnonzero(early & (put_yield >= 0.0))
    bound = _premium_bound(
        x[candidates], put_rate[candidates], put_yield[candidates], sigma[candidates], T[candidates]
    )
    early[candidates[scale[candidates] * bound <= _NEGLIGIBLE_PREMIUM]] = False
    price, delta, gamma = (np.full(S.size, np.nan) for _ in range(3))
    changes = tuple(np.full(S.size, np.nan) for _ in directions)
    closed = np.flatnonzero(~early)
    if closed.size:
        price[closed], delta[closed], gamma[closed] = _european(
            *(v[closed] for v in (S, K, T, r, b, sigma, is_call))
        )
        put_args = (x[closed], put_rate[closed], put_yield[closed], sigma[closed], T[closed])
        for change, (direction, _) in zip(changes, directions, strict=True):
            part = direction.at(closed)
            change[closed] = scale[closed] * american_boundary.european_put_change(*put_args, part)
    out_boundary = np.full((S.size, american_boundary.NODES), np.nan)
    early = np.flatnonzero(early)
    if early.size == 0:
        return _Evaluation(price, delta, gamma, out_boundary, changes)
    call, s, k, xe = is_call[early], S[early], K[early], x[early]
    args = (put_rate[early], put_yield[early], sigma[early], T[early])
    warm = None if start is None else start[early]
    nodes = american_boundary.put_boundary(*args, warm, tolerance)
    parts = tuple((direction.at(early), step) for direction, step in directions)
    log_boundaries = american_boundary.boundary_changes(*args, nodes, parts) if parts else []
    moves = [
        part._replace(log_boundary=log_boundary)
        for (part, _), log_boundary in zip(parts, log_boundaries, strict=True)
    ]
    value = american_boundary.put_value(
        xe, *args, nodes, derivatives=derivatives, directions=tuple(moves)
    )
    p, p1, p2 = value.price, value.first, value.second
    price[early] = scale[early] * p
    for change, put_change in zip(changes, value.changes, strict=True):
        change[early] = scale[early] * put_change
    if derivatives:
        # Put: V = K p(S / K). Call: V = S p(K / S), so dV/dS = p - x p' and
        # d2V/dS2 = x^2 p'' / S.
        delta[early] = np.where(call, np.clip(p - xe * p1, 0.0, 1.0), p1)
        gamma[early] = np.where(call, xe * xe * p2 / s, p2 / k)
    out_boundary[early] = nodes
    return _Evaluation(price, delta, gamma, out_boundary, changes)


def american_price(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    carry: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
) -> Floats:
    """Return the American price per share (see the module docstring for the model).

    ``carry`` is b: rate - dividend yield for equity options, 0 for futures
    options. Expired legs (``years`` <= 0) get intrinsic value; NaN inputs
    give NaN.
    """
    S, K, T, r, b, vol, call = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (spot, strike, years, rate, carry, sigma)),
        np.asarray(is_call, dtype=bool),
    )
    shape = S.shape
    S, K, T, r, b, vol, call = (x.reshape(-1) for x in (S, K, T, r, b, vol, call))
    sign = np.where(call, 1.0, -1.0)
    with np.errstate(all="ignore"):
        intrinsic = np.maximum(sign * (S - K), 0.0)
        intrinsic[np.isnan(S) | np.isnan(K)] = np.nan
        price = intrinsic.copy()
        alive = np.flatnonzero((T > 0.0) & (vol > 0.0) & (S > 0.0) & (K > 0.0))
        if alive.size:
            args = (x[alive] for x in (S, K, T, r, b, vol, call))
            value = _evaluate(*args, derivatives=False)[0]
            price[alive] = np.fmax(value, intrinsic[alive])
        price[np.isnan(T) | np.isnan(vol) | np.isnan(r) | np.isnan(b)] = np.nan
    return price.reshape(shape)


def american_greeks(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    carry_offset: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    futures: ArrayLike = False,
    start: Floats | None = None,
    with_rho: bool = True,
) -> Greeks:
    """Return American price and greeks per share (see the module docstring for how).

    ``carry_offset`` is the dividend yield q for equity options (b = r - q);
    for legs where ``futures`` is True the carry is 0 whatever the rate.
    ``start``: the boundary at these inputs but the spot
    (``AmericanImplied.boundary`` of a solve at these volatilities, or
    ``exercise_boundary``), one row per leg in the inputs' flattened order
    (NaN rows: none), from which the boundary's solve takes a step instead
    of three; the answer is the same to the boundary's tolerance either way.
    Units as ``metrics.greeks.Greeks``: theta per calendar day, vega per
    volatility point, rho per percentage point (None without ``with_rho``).
    Expired legs: intrinsic value, delta 0 or +/-1, other greeks 0.
    """
    S, K, T, q, vol, call, fut = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (spot, strike, years, carry_offset, sigma)),
        np.asarray(is_call, dtype=bool),
        np.asarray(futures, dtype=bool),
    )
    shape = S.shape
    S, K, T, q, vol, call, fut = (x.reshape(-1) for x in (S, K, T, q, vol, call, fut))
    size = S.size
    r = np.full(size, float(rate))
    sign = np.where(call, 1.0, -1.0)
    value, delta, gamma, theta, vega, rho = (np.zeros(size) for _ in range(6))
    with np.errstate(all="ignore"):
        intrinsic = np.maximum(sign * (S - K), 0.0)
        value[:] = intrinsic
        alive = np.flatnonzero((T > 0.0) & (vol > 0.0) & (S > 0.0) & (K > 0.0))
        if alive.size:
            legs = (S[alive], K[alive], T[alive])
            rates, offset, sigma, c, f = r[alive], q[alive], vol[alive], call[alive], fut[alive]

            # Futures options carry 0 whatever the rate; equity options r - q.
            carry = np.where(f, 0.0, rates - offset)
            warm = None if start is None else np.asarray(start, dtype=np.float64)[alive]
            # The put's inputs (put-call symmetry swaps a call's r and q) move
            # with sigma for vega; with the rate for rho: a put's r, a call's
            # q' = r, and for futures options both (b stays 0, so q = r).
            zero, one = np.zeros(alive.size), np.ones(alive.size)
            follows = ~f  # equity: b = r - q moves with the rate
            directions = [(american_boundary.Direction(zero, zero, one), SIGMA_STEP)]
            if with_rho:
                rate_direction = american_boundary.Direction(
                    np.where(c & follows, 0.0, 1.0), np.where(~c & follows, 0.0, 1.0), zero
                )
                directions.append((rate_direction, RATE_STEP))
            evaluation = _evaluate(
                *legs, rates, carry, sigma, c, warm, directions=tuple(directions)
            )
            raw, d, g = evaluation.price, evaluation.delta, evaluation.gamma
            base = np.fmax(raw, intrinsic[alive])
            vega[alive] = evaluation.changes[0] * 0.01
            if with_rho:
                rho[alive] = evaluation.changes[1] * 0.01
            s = S[alive]
            # The Black-Scholes equation, where the leg is alive: dV/dt (calendar).
            th = rates * base - carry * s * d - 0.5 * sigma * sigma * s * s * g
            # Inside the exercise region the option is the stock less the strike
            # (or the reverse): delta +/-1 exactly, no gamma and no decay.
            exercised = (intrinsic[alive] > 0.0) & (base <= intrinsic[alive] + _EXERCISED_TOLERANCE)
            value[alive] = base
            delta[alive] = np.where(exercised, sign[alive], d)
            gamma[alive] = np.where(exercised, 0.0, g)
            theta[alive] = np.where(exercised, 0.0, th) / greeks.DAYS_PER_YEAR
        expired = T <= 0.0
        if expired.any():
            itm = (sign[expired] * (S[expired] - K[expired])) > 0.0
            delta[expired] = np.where(itm, sign[expired], 0.0)
        bad = np.isnan(S) | np.isnan(K) | np.isnan(T) | np.isnan(vol) | np.isnan(q) | np.isnan(r)
        for greek in (value, delta, gamma, theta, vega, rho):
            greek[bad] = np.nan
    outputs = (value, delta, gamma, theta, vega, rho)
    greeks_out = Greeks(*(x.reshape(shape) for x in outputs))
    return greeks_out if with_rho else dataclasses.replace(greeks_out, rho=None)


def exercise_boundary(
    *,
    years: ArrayLike,
    rate: float,
    carry_offset: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    futures: ArrayLike = False,
) -> Floats:
    """Return the exercise boundary for ``american_greeks(start=...)`` at any spot.

    The boundary depends on the time, the rate, the carry and the
    volatility, not on the spot: a grid of spots for one leg (a what-if,
    a risk graph) solves it once. One row per leg in the inputs' flattened
    order, the put's (put-call symmetry) at the model's nodes; NaN where
    early exercise is never optimal or an input is not positive.
    """
    T, q, vol, call, fut = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (years, carry_offset, sigma)),
        np.asarray(is_call, dtype=bool),
        np.asarray(futures, dtype=bool),
    )
    T, q, vol, call, fut = (x.reshape(-1) for x in (T, q, vol, call, fut))
    r = np.full(T.size, float(rate))
    dividend_yield = np.where(fut, r, q)  # futures options: b = 0, so q = r
    put_rate = np.where(call, dividend_yield, r)
    put_yield = np.where(call, r, dividend_yield)
    out = np.full((T.size, american_boundary.NODES), np.nan)
    with np.errstate(all="ignore"):
        ok = np.flatnonzero(
            (put_rate > 0.0) & (T > 0.0) & (vol > 0.0) & np.isfinite(T + vol + put_yield)
        )
        if ok.size:
            out[ok] = american_boundary.put_boundary(put_rate[ok], put_yield[ok], vol[ok], T[ok])
    return out


@dataclass(frozen=True, slots=True)
class AmericanImplied:
    """An implied-volatility solve and the exercise boundary at each answer.

    ``boundary``: (legs, american_boundary.NODES), one row per leg in the
    inputs' flattened order; NaN where nothing was solved through the
    boundary (unsolved legs, legs priced in closed form). Pass it as
    ``american_greeks(start=...)`` at the solved volatilities.
    """

    iv: ImpliedVolatility
    boundary: Floats


def solve_implied_volatility(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    carry_offset: ArrayLike,
    is_call: ArrayLike,
    futures: ArrayLike = False,
) -> AmericanImplied:
    """Solve the American volatility (annual fraction) from per-share prices.

    Also returns, per solved leg, the exercise boundary at the answer, so
    that ``american_greeks`` at that volatility starts from it (the
    product prices every leg at the volatility it solves).

    Same statuses as ``metrics.greeks.implied_volatility``: a price at or
    under immediate exercise is ``below_intrinsic``, at or over the spot (a
    call) or the strike (a put) ``above_bound``, outside the prices at
    SIGMA_MIN and SIGMA_MAX ``out_of_range``; sigma is NaN unless ``solved``.
    """
    P, S, K, T, q, call, fut = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (price, spot, strike, years, carry_offset)),
        np.asarray(is_call, dtype=bool),
        np.asarray(futures, dtype=bool),
    )
    shape = P.shape
    P, S, K, T, q, call, fut = (x.reshape(-1) for x in (P, S, K, T, q, call, fut))
    size = P.size
    rate = float(rate)
    sign = np.where(call, 1.0, -1.0)
    with np.errstate(all="ignore"):
        intrinsic = np.maximum(sign * (S - K), 0.0)
        ceiling = np.where(call, S, K)
        code = np.full(size, _CODE[IVStatus.SOLVED])
        code[P >= ceiling] = _CODE[IVStatus.ABOVE_BOUND]
        code[P <= intrinsic] = _CODE[IVStatus.BELOW_INTRINSIC]
        code[np.isnan(P)] = _CODE[IVStatus.NO_QUOTE]
        code[~((S > 0.0) & (S < np.inf))] = _CODE[IVStatus.NO_UNDERLYING]
        code[~((K > 0.0) & (K < np.inf)) | ~np.isfinite(T) | ~np.isfinite(q)] = _CODE[
            IVStatus.INVALID
        ]
        code[T <= 0.0] = _CODE[IVStatus.EXPIRED]
        sigma = np.full(size, np.nan)
        boundary = np.full((size, american_boundary.NODES), np.nan)
        pending = np.flatnonzero(code == _CODE[IVStatus.SOLVED])
        if pending.size:
            sigma[pending], code[pending], boundary[pending] = _solve(
                *(x[pending] for x in (P, S, K, T, q, call, fut)), rate
            )
    return AmericanImplied(ImpliedVolatility(sigma.reshape(shape), code.reshape(shape)), boundary)


def _solve(P, S, K, T, q, call, fut, rate):
    """Return (sigma, status code, boundary) for legs whose price is inside the static bounds.

    Safeguarded secant steps on the American price less the mark. Starts:
    the European IV of the mark (an upper bound, the American price never
    being under the European), then the European IV of the mark less the
    early-exercise premium found there, usually within a few basis points
    of the answer. Each step warm-starts the boundary from the step before;
    the boundary is solved to the same tolerance from any start, so the
    answer reprices with ``american_price`` to ``_IV_PRICE_TOLERANCE``.
    """
    size = P.size
    r = np.full(size, rate)
    b = np.where(fut, 0.0, rate - q)
    tolerance = _IV_PRICE_TOLERANCE * np.maximum(np.maximum(S, K), 1.0)
    code = np.full(size, _CODE[IVStatus.SOLVED])
    sigma = np.full(size, np.nan)
    solved_boundary = np.full((size, american_boundary.NODES), np.nan)

    def european_iv(price, index):
        return greeks.implied_volatility(
            price=price,
            spot=S[index],
            strike=K[index],
            years=T[index],
            rate=rate,
            dividend_yield=r[index] - b[index],
            is_call=call[index],
        ).sigma

    def model(index, vol, start=None):
        args = (S[index], K[index], T[index], r[index], b[index], vol, call[index])
        evaluation = _evaluate(*args, start, derivatives=False)
        return evaluation.price - P[index], evaluation.boundary

    everything = np.arange(size)
    x0 = european_iv(P, everything)
    # Unsolved as European: under the European price at SIGMA_MIN the mark is
    # under the American one too; over it at SIGMA_MAX, start from SIGMA_MAX.
    unsolved = ~np.isfinite(x0)
    x0[unsolved] = SIGMA_MAX
    f0, boundary = model(everything, x0)
    code[(unsolved & (f0 < 0.0)) | np.isnan(f0)] = _CODE[IVStatus.OUT_OF_RANGE]
    # Under the European price at SIGMA_MIN (a stale mark on a deep in-the-money
    # leg): out of range unless the American price at SIGMA_MIN is under it.
    floor_check = np.flatnonzero(unsolved & (f0 >= 0.0))
    if floor_check.size:
        f_min, _ = model(floor_check, np.full(floor_check.size, SIGMA_MIN))
        code[floor_check[~(f_min <= 0.0)]] = _CODE[IVStatus.OUT_OF_RANGE]
    active = np.flatnonzero(code == _CODE[IVStatus.SOLVED])
    if active.size == 0:
        return sigma, code, solved_boundary
    x0, f0, boundary = x0[active], f0[active], boundary[active]
    # The root is at or under x0: the price rises with sigma.
    lo = np.full(active.size, SIGMA_MIN)
    hi = x0.copy()
    f_lo = np.full(active.size, -np.inf)  # unknown until a step lands under the root
    f_hi = f0.copy()
    european_at_x0 = _european(*(x[active] for x in (S, K, T, r, b)), x0, call[active])[0]
    x1 = european_iv(european_at_x0 - f0, active)  # the mark less the premium at x0
    x1 = np.where(np.isfinite(x1) & (x1 < x0), x1, 0.5 * (x0 + SIGMA_MIN))
    result = np.where(np.abs(f0) <= tolerance[active], x0, np.nan)
    result_boundary = np.where(np.isnan(result)[:, None], np.nan, boundary)
    index = np.flatnonzero(np.isnan(result))
    x0, x1, f0, lo, hi, f_lo, f_hi, boundary = (
        x[index] for x in (x0, x1, f0, lo, hi, f_lo, f_hi, boundary)
    )
    x_before = np.full(index.size, np.nan)
    previous = np.full_like(boundary, np.nan)
    for _ in range(_IV_MAX_ITERATIONS):
        if index.size == 0:
            break
        # Start from the boundary extrapolated linearly in sigma from the
        # last two steps: one Halley step then usually suffices.
        with np.errstate(all="ignore"):
            trend = ((x1 - x0) / (x0 - x_before))[:, None] * (boundary - previous)
        start = np.where(np.isfinite(trend), boundary + trend, boundary)
        previous = boundary
        f1, boundary = model(active[index], x1, start)
        above = f1 > 0.0
        hi, f_hi = np.where(above, x1, hi), np.where(above, f1, f_hi)
        lo, f_lo = np.where(above, lo, x1), np.where(above, f_lo, f1)
        close = np.abs(f1) <= tolerance[active[index]]
        collapsed = hi - lo <= 1e-14 * hi
        done = close | collapsed
        # A bracket that collapsed onto SIGMA_MIN without a price under the
        # mark is no root: left NaN, it is reported out of range below.
        found = close | (collapsed & np.isfinite(f_lo))
        result[index[found]] = x1[found]
        result_boundary[index[found]] = boundary[found]
        slope = (f1 - f0) / (x1 - x0)
        step = np.where((slope > 0.0) & np.isfinite(slope), x1 - f1 / slope, np.nan)
        # Regula falsi, else bisection, when the secant leaves the bracket.
        falsi = lo - f_lo * (hi - lo) / (f_hi - f_lo)
        inside = (step > lo) & (step < hi)
        x_before, x0, f0 = x0, x1, f1
        x1 = np.where(inside, step, np.where((falsi > lo) & (falsi < hi), falsi, 0.5 * (lo + hi)))
        keep = ~done
        index, x_before, x0, x1, f0, lo, hi, f_lo, f_hi, boundary, previous = (
            x[keep] for x in (index, x_before, x0, x1, f0, lo, hi, f_lo, f_hi, boundary, previous)
        )
    sigma[active] = result
    solved_boundary[active] = result_boundary
    failed = active[np.isnan(result)]
    if failed.size:
        # Pinned at SIGMA_MIN: the mark is under the American price there.
        f_min, _ = model(failed, np.full(failed.size, SIGMA_MIN))
        code[failed] = np.where(
            f_min > 0.0, _CODE[IVStatus.OUT_OF_RANGE], _CODE[IVStatus.NOT_CONVERGED]
        )
    return sigma, code, solved_boundary
