"""Option prices, greeks and implied volatility over NumPy arrays.

Kept whole past 500 lines: the closed forms, their greeks and the IV solver
share one set of vectorised intermediates (d1, d2, discount factors).

Black-Scholes-Merton with a continuous dividend yield for equity and index
options; Black-76 for futures options (the same formulas with the futures
price as spot and the carry equal to the rate), for European exercise; American
legs are priced by ``metrics.american`` with the same units.

Units, per share or per unit of the underlying:

- ``price`` in the underlying's price units ($ per share, index or futures points);
- ``delta`` dV/dS, ``gamma`` d2V/dS2 per 1 price unit;
- ``theta`` dV/dt per calendar day (dV/dt per year / 365; a long option's is < 0);
- ``vega`` dV/dsigma per 1 volatility point (dV/dsigma / 100);
- ``rho`` dV/dr per 1 percentage point of the rate (dV/dr / 100), the dividend
  yield held fixed (Black-76 callers take -T * price / 100 instead);
- ``years`` to expiry in 365-day years; ``sigma`` and rates as annual fractions.

Work runs in blocks of ``BLOCK_SIZE`` legs: each temporary stays in cache and
small enough for the allocator to recycle, instead of faulting in fresh pages
for every full-length intermediate, which costs more than the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from metrics import market_calendar

Floats = NDArray[np.float64]

SIGMA_MIN = 1e-4
SIGMA_MAX = 5.0
DAYS_PER_YEAR = 365.0
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86_400.0
NEW_YORK = ZoneInfo("America/New_York")
PM_CLOSE = dt.time(16, 0)
AM_SETTLEMENT = dt.time(9, 30)
_AM_SECONDS = AM_SETTLEMENT.hour * 3600.0 + AM_SETTLEMENT.minute * 60.0

# 8192 float64 = 64 KiB: below glibc's 128 KiB mmap threshold, so block-sized
# temporaries come from the heap's free lists rather than fresh zeroed pages.
BLOCK_SIZE = 8192

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
# Newton/Halley stop when a step moves v = sigma*sqrt(T) by less than this
# fraction; the step is still applied, so the error left is far smaller.
_IV_STEP_TOLERANCE = 1e-8
_IV_MAX_ITERATIONS = 100


class IVStatus(StrEnum):
    """Why a leg does or does not have an implied volatility."""

    SOLVED = "solved"
    NO_QUOTE = "no_quote"  # no option price
    NO_UNDERLYING = "no_underlying"  # no underlying price
    INVALID = "invalid"  # no strike, expiry or option type
    EXPIRED = "expired"  # T <= 0: intrinsic value only
    BELOW_INTRINSIC = "below_intrinsic"  # price at or under the no-arbitrage floor
    ABOVE_BOUND = "above_bound"  # price at or over the no-arbitrage ceiling
    OUT_OF_RANGE = "out_of_range"  # solution outside [SIGMA_MIN, SIGMA_MAX]
    NOT_CONVERGED = "not_converged"
    NOT_APPLICABLE = "not_applicable"  # stock and futures: no volatility
    UNSUPPORTED = "unsupported"  # instrument type not priced


# Codes index this tuple, so the solver works on int8 arrays.
IV_STATUSES: tuple[IVStatus, ...] = tuple(IVStatus)
_CODE = {status: np.int8(code) for code, status in enumerate(IV_STATUSES)}
_STATUS_NAMES = np.array([status.value for status in IV_STATUSES])


def status_names(codes: NDArray[np.int8]) -> NDArray[np.str_]:
    """Return the IVStatus value for each status code."""
    return _STATUS_NAMES[codes]


@dataclass(frozen=True, slots=True)
class Greeks:
    """Per-unit values of a set of options (see the module docstring for units)."""

    price: Floats
    delta: Floats
    gamma: Floats
    theta: Floats  # $ per calendar day per unit
    vega: Floats  # $ per volatility point per unit
    rho: Floats | None = None  # $ per percentage point of the rate per unit


@dataclass(frozen=True, slots=True)
class ImpliedVolatility:
    """Implied volatilities (annual fraction, NaN unless solved) and their status."""

    sigma: Floats
    status_code: NDArray[np.int8]

    @property
    def status(self) -> NDArray[np.str_]:
        return status_names(self.status_code)


# --------------------------------------------------------------------------
# Time to expiry


def year_fraction(
    expiration_dates: ArrayLike,
    settlement: ArrayLike,
    now: dt.datetime,
) -> Floats:
    """Return years of 365 days from ``now`` to each expiry (NaN for no date).

    A PM-settled expiry ends at the session's close on its date, 16:00
    America/New_York, or 13:00 on the NYSE's early-close days (the calendar
    the nightly snapshot uses), and an AM-settled one ("AM") at 09:30, each in
    that day's offset, so weeks across a daylight-saving change are an hour
    shorter or longer. Past expiries are negative.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    dates = np.asarray(expiration_dates, dtype="datetime64[D]")
    day_numbers = dates.astype(np.int64)
    valid = ~np.isnat(dates)
    is_am = np.broadcast_to(np.asarray(settlement) == "AM", dates.shape)
    years = np.full(dates.shape, np.nan)
    if not valid.any():
        return years
    days = day_numbers[valid]
    unique_days, where_in_unique = _unique_days(days)
    # 09:30, 13:00 and 16:00 are all after the 02:00 clock change, so one
    # offset per date serves every settlement time.
    day_start = unique_days * 86_400.0 - np.array(
        [_utc_offset_seconds(int(day)) for day in unique_days]
    )
    pm_close = np.array([_pm_close_seconds(int(day)) for day in unique_days])
    close_seconds = np.where(is_am[valid], _AM_SECONDS, pm_close[where_in_unique])
    expiry_epoch = day_start[where_in_unique] + close_seconds
    years[valid] = (expiry_epoch - now.timestamp()) / SECONDS_PER_YEAR
    return years


def _unique_days(days: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray]:
    """Return the distinct day numbers and each day's index among them."""
    first = int(days.min())
    span = int(days.max()) - first + 1
    if span > 20_000:  # a stray far-off date: sorting beats a huge lookup table
        return np.unique(days, return_inverse=True)
    offsets = days - first
    present = np.bincount(offsets, minlength=span) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + first, rank[offsets]


@functools.lru_cache(maxsize=4096)
def _pm_close_seconds(day_number: int) -> float:
    """Return seconds after New York midnight that a PM expiry on that day ends."""
    day = dt.date(1970, 1, 1) + dt.timedelta(days=day_number)
    close = market_calendar.session_close(day)
    return close.hour * 3600.0 + close.minute * 60.0


@functools.lru_cache(maxsize=4096)
def _utc_offset_seconds(day_number: int) -> float:
    """Return New York's UTC offset in seconds at the close of that day (-14400 in summer)."""
    day = dt.date(1970, 1, 1) + dt.timedelta(days=day_number)
    return dt.datetime.combine(day, PM_CLOSE, tzinfo=NEW_YORK).utcoffset().total_seconds()


# --------------------------------------------------------------------------
# Prices and greeks


def black_scholes_merton(
    *,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    dividend_yield: ArrayLike,
    sigma: ArrayLike,
    is_call: ArrayLike,
    with_rho: bool = False,
) -> Greeks:
    """Return BSM price and greeks per share (theta per day, vega per vol point).

    Expired options (``years`` <= 0) get intrinsic value, delta 0 or +/-1 and
    zero gamma, theta and vega. NaN inputs give NaN outputs. ``rho`` (per rate
    point) only ``with_rho``, else None: a sixth full-length output costs
    about a tenth of the call.
    """
    spot, strike, years, carry, sigma, is_call = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (spot, strike, years)),
        np.asarray(dividend_yield, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
    )
    shape = spot.shape
    flat = [x.reshape(-1) for x in (spot, strike, years, carry, sigma, is_call)]
    out = [np.empty(spot.size) for _ in range(6 if with_rho else 5)]
    with np.errstate(all="ignore"):
        for start in range(0, spot.size, BLOCK_SIZE):
            block = slice(start, start + BLOCK_SIZE)
            outputs = [o[block] for o in out]
            if not with_rho:
                outputs.append(None)
            _bsm_block(*(x[block] for x in flat), float(rate), *outputs)
    values = [o.reshape(shape) for o in out]
    return Greeks(*values[:5], rho=values[5] if with_rho else None)


def black_76(
    *,
    forward: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    sigma: ArrayLike,
    is_call: ArrayLike,
) -> Greeks:
    """Return Black-76 price and greeks per futures unit (delta per futures point).

    Rho holds the futures price fixed: -T * price per percentage point / 100.
    """
    values = black_scholes_merton(
        spot=forward,
        strike=strike,
        years=years,
        rate=rate,
        dividend_yield=rate,
        sigma=sigma,
        is_call=is_call,
    )
    with np.errstate(invalid="ignore"):
        rho = np.where(
            np.asarray(years) > 0.0, -0.01 * np.asarray(years, dtype=np.float64) * values.price, 0.0
        )
    return Greeks(values.price, values.delta, values.gamma, values.theta, values.vega, rho)


def _bsm_block(S, K, T, q, sigma, is_call, r, price, delta, gamma, theta, vega, rho):
    """Fill one block of outputs; every array is a same-length 1-D slice."""
    sign = is_call * 2.0 - 1.0
    sqrt_t = np.sqrt(T)
    vol_t = sigma * sqrt_t
    d1 = np.log(S / K)
    d1 += (r - q + 0.5 * sigma * sigma) * T
    d1 /= vol_t
    d2 = d1 - vol_t
    n1 = ndtr(sign * d1)  # N(d1) for a call, N(-d1) for a put: no cancellation
    n2 = ndtr(np.multiply(sign, d2, out=d2), out=d2)
    pdf = np.multiply(d1, d1, out=d1)
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI
    carry_discount = np.exp(-q * T)
    np.multiply(sign, carry_discount, out=delta)
    delta *= n1
    # price = S e^{-qT} N(.d1) - K e^{-rT} N(.d2), signed for calls and puts
    np.multiply(S, delta, out=price)
    n2 *= sign
    n2 *= K
    n2 *= np.exp(-r * T)
    price -= n2
    if rho is not None:
        # rho per rate point: sign K T e^{-rT} N(sign d2) / 100
        np.multiply(n2, T, out=rho)
        rho *= 0.01
    np.multiply(carry_discount, pdf, out=gamma)
    # vega per year of sigma: S e^{-qT} phi(d1) sqrt(T)
    np.multiply(S, gamma, out=vega)
    vega *= sqrt_t
    gamma /= S * vol_t
    # dV/dt = -vega sigma / (2T) + r V + (q - r) S delta, per year
    np.multiply(vega, sigma, out=theta)
    theta /= -2.0 * T
    theta += r * price
    theta += (q - r) * S * delta
    theta *= 1.0 / DAYS_PER_YEAR
    vega *= 0.01
    expired = T <= 0.0
    if expired.any():
        _intrinsic_into(S, K, sign, expired, price, delta, gamma, theta, vega, rho)


def _intrinsic_into(S, K, sign, expired, price, delta, gamma, theta, vega, rho):
    moneyness = sign[expired] * (S[expired] - K[expired])
    in_the_money = moneyness > 0.0
    price[expired] = np.where(in_the_money, moneyness, 0.0)
    # NaN spot keeps NaN outputs rather than a made-up delta of 0.
    delta[expired] = np.where(
        np.isnan(moneyness), np.nan, np.where(in_the_money, sign[expired], 0.0)
    )
    for greek in (gamma, theta, vega, rho):
        if greek is not None:
            greek[expired] = np.where(np.isnan(moneyness), np.nan, 0.0)


# --------------------------------------------------------------------------
# Implied volatility
#
# Each option is reduced to its out-of-the-money twin (put-call parity on the
# forward), normalised by sqrt(F K) times the discount factor. Its price then
# depends only on a = |ln(F/K)| and v = sigma sqrt(T):
#
#     b(a, v) = e^{-a/2} N(v/2 - a/v) - e^{a/2} N(-v/2 - a/v),  0 < b < e^{-a/2}
#     db/dv   = phi(a/v) phi(v/2) sqrt(2 pi)   (never zero inside the range)
#
# A table of v over (sqrt(a), w) with w = 1/sqrt(1 - ln(b e^{a/2})) gives a start
# within ~1e-3 relative; Halley steps (cubic) then finish in two evaluations for
# almost every leg, with a bracketing bisection fallback for the rest.

_TABLE_A_MAX = 4.0
_TABLE_A_STEPS = 160  # uniform in sqrt(a): finer near the money
_TABLE_W_STEPS = 200


def implied_volatility(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    dividend_yield: ArrayLike,
    is_call: ArrayLike,
) -> ImpliedVolatility:
    """Solve BSM volatility (annual fraction) from per-share prices.

    For Black-76 pass the futures price as ``spot`` and ``dividend_yield=rate``.
    The solution is bounded to [SIGMA_MIN, SIGMA_MAX]; each leg gets an
    IVStatus code, and sigma is NaN unless the status is ``solved``.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (price, spot, strike, years)),
        np.asarray(dividend_yield, dtype=np.float64),
        np.asarray(is_call, dtype=bool),
    )
    shape = arrays[0].shape
    flat = [x.reshape(-1) for x in arrays]
    size = flat[0].size
    sigma = np.empty(size)
    codes = np.empty(size, dtype=np.int8)
    table = _start_table()
    with np.errstate(all="ignore"):
        for start in range(0, size, BLOCK_SIZE):
            block = slice(start, start + BLOCK_SIZE)
            _implied_block(
                *(x[block] for x in flat), float(rate), table, sigma[block], codes[block]
            )
    return ImpliedVolatility(sigma.reshape(shape), codes.reshape(shape))


def implied_volatility_76(
    *,
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    is_call: ArrayLike,
) -> ImpliedVolatility:
    """Solve Black-76 volatility (annual fraction) from per-unit futures-option prices."""
    return implied_volatility(
        price=price,
        spot=forward,
        strike=strike,
        years=years,
        rate=rate,
        dividend_yield=rate,
        is_call=is_call,
    )


def _implied_block(price, S, K, T, q, is_call, r, table, sigma_out, code_out):
    discount = np.exp(-r * T)
    forward = S * np.exp((r - q) * T)
    sign = is_call * 2.0 - 1.0
    ceiling = np.where(is_call, forward, K)  # undiscounted no-arbitrage bounds
    intrinsic = np.maximum(sign * (forward - K), 0.0)
    otm_price = price / discount - intrinsic  # parity: the OTM twin's price
    scale = np.sqrt(forward * K)
    beta = otm_price / scale
    a = np.abs(np.log(forward / K))

    code = np.full(price.shape, _CODE[IVStatus.SOLVED])
    code[otm_price >= ceiling - intrinsic] = _CODE[IVStatus.ABOVE_BOUND]
    code[otm_price <= 0.0] = _CODE[IVStatus.BELOW_INTRINSIC]
    code[np.isnan(price)] = _CODE[IVStatus.NO_QUOTE]
    code[~((S > 0.0) & (S < np.inf))] = _CODE[IVStatus.NO_UNDERLYING]
    code[~((K > 0.0) & (K < np.inf)) | ~np.isfinite(T) | ~np.isfinite(q)] = _CODE[IVStatus.INVALID]
    code[T <= 0.0] = _CODE[IVStatus.EXPIRED]
    sigma_out[:] = np.nan
    # Extreme but finite inputs can still overflow the forward or its log.
    solvable = code == _CODE[IVStatus.SOLVED]
    overflow = solvable & ~(np.isfinite(a) & np.isfinite(beta))
    if overflow.any():
        code[overflow] = _CODE[IVStatus.INVALID]
        solvable &= ~overflow

    pending = np.flatnonzero(solvable)
    if pending.size == 0:
        code_out[:] = code
        return
    if pending.size != price.size:
        a, beta, T = a[pending], beta[pending], T[pending]
    sqrt_t = np.sqrt(T)
    v, solved_code = _solve_normalised(a, beta, SIGMA_MIN * sqrt_t, SIGMA_MAX * sqrt_t, table)
    v /= sqrt_t
    if pending.size == price.size:
        sigma_out[:] = v
        code_out[:] = solved_code
    else:
        sigma_out[pending] = v
        code[pending] = solved_code
        code_out[:] = code


def _solve_normalised(a, beta, v_min, v_max, table):
    """Return v = sigma sqrt(T) with b(a, v) = beta, and a status code per leg."""
    code = np.full(a.shape, _CODE[IVStatus.SOLVED])
    v = _table_start(a, beta, table)
    np.clip(v, v_min, v_max, out=v)
    exp_half_a = np.exp(0.5 * a)
    exp_minus_half_a = 1.0 / exp_half_a
    low, high = v_min.copy(), v_max.copy()

    # Near a bound, or off the table, test the bounds themselves first so the
    # bracket below always holds the root.
    suspect = np.flatnonzero(
        (v < 1.25 * v_min) | (v > 0.8 * v_max) | (a > _TABLE_A_MAX) | np.isnan(v)
    )
    if suspect.size:
        s_args = (a[suspect], exp_minus_half_a[suspect], exp_half_a[suspect])
        above_at_min = _normalised_price(*s_args, v_min[suspect]) >= beta[suspect]
        below_at_max = _normalised_price(*s_args, v_max[suspect]) <= beta[suspect]
        outside = suspect[above_at_min | below_at_max]
        code[outside] = _CODE[IVStatus.OUT_OF_RANGE]
        v[suspect] = np.where(np.isnan(v[suspect]), v_min[suspect], v[suspect])

    # Two steps for every leg: from the table's start, that converges nearly all.
    done = np.zeros(a.shape, dtype=bool)
    for _ in range(2):
        v, done = _halley_step(a, beta, exp_minus_half_a, exp_half_a, v, low, high)
    done |= code != _CODE[IVStatus.SOLVED]
    rest = np.flatnonzero(~done)
    if rest.size:
        v[rest], code[rest] = _solve_remaining(
            a[rest], beta[rest], exp_minus_half_a[rest], exp_half_a[rest],
            v[rest], low[rest], high[rest],
        )  # fmt: skip
    v[code != _CODE[IVStatus.SOLVED]] = np.nan
    return v, code


def _solve_remaining(a, beta, e_minus, e_plus, v, low, high):
    """Iterate the few legs the first two steps left, shrinking the set each time."""
    v_out = v.copy()
    code = np.full(a.shape, _CODE[IVStatus.NOT_CONVERGED])
    index = np.arange(a.size)
    for _ in range(_IV_MAX_ITERATIONS - 2):
        v, done = _halley_step(a, beta, e_minus, e_plus, v, low, high)
        done |= high - low <= 1e-14 * v  # bracket collapsed onto the root
        if done.any():
            v_out[index[done]] = v[done]
            code[index[done]] = _CODE[IVStatus.SOLVED]
            keep = ~done
            index, a, beta, e_minus, e_plus, v, low, high = (
                x[keep] for x in (index, a, beta, e_minus, e_plus, v, low, high)
            )
            if index.size == 0:
                break
    return v_out, code


def _normalised_price(a, e_minus, e_plus, v):
    z = a / v
    half_v = 0.5 * v
    return e_minus * ndtr(half_v - z) - e_plus * ndtr(-half_v - z)


def _halley_step(a, beta, e_minus, e_plus, v, low, high):
    """Take one safeguarded Halley step; narrow [low, high] in place."""
    z = a / v
    half_v = 0.5 * v
    f = e_minus * ndtr(half_v - z)
    f -= e_plus * ndtr(-half_v - z)
    f -= beta
    slope = np.exp(-0.5 * (z * z + half_v * half_v))
    slope *= _INV_SQRT_2PI
    np.copyto(high, v, where=f > 0.0)
    np.copyto(low, v, where=f < 0.0)
    newton = f / slope
    # Halley: divide the Newton step by 1 - (newton/2) * b''/b'; b''/b' = z^2/v - v/4
    damping = 1.0 - 0.5 * newton * (z * z / v - 0.5 * half_v)
    step = np.where(damping > 0.5, newton / damping, newton)
    v_next = v - step
    inside = (v_next >= low) & (v_next <= high)
    done = inside & (np.abs(step) <= _IV_STEP_TOLERANCE * v)
    if not inside.all():
        v_next = np.where(inside, v_next, np.sqrt(low * high))  # geometric bisection
    return v_next, done


def _table_start(a, beta, table):
    """Interpolate a starting v for each (a, beta) from the precomputed table."""
    w = 1.0 / np.sqrt(1.0 - (np.log(beta) + 0.5 * a))
    row = np.sqrt(a) * (_TABLE_A_STEPS / np.sqrt(_TABLE_A_MAX))
    np.minimum(row, _TABLE_A_STEPS - 1e-9, out=row)
    # w is positive or NaN (beta at its ceiling after rounding); fmin sends NaN
    # to the table's top column.
    col = np.fmin(w * _TABLE_W_STEPS, _TABLE_W_STEPS - 1e-9)
    i = row.astype(np.intp)
    k = col.astype(np.intp)
    row -= i
    col -= k
    base = i * (_TABLE_W_STEPS + 1) + k
    left = table[base] + col * (table[base + 1] - table[base])
    base += _TABLE_W_STEPS + 1
    right = table[base] + col * (table[base + 1] - table[base])
    left += row * (right - left)
    return np.exp(left)


@functools.cache
def _start_table() -> Floats:
    """Tabulate ln v on a grid of (sqrt(a), w), flattened row-major."""
    a_grid = np.linspace(0.0, np.sqrt(_TABLE_A_MAX), _TABLE_A_STEPS + 1) ** 2
    w_grid = np.linspace(0.0, 1.0, _TABLE_W_STEPS + 1)
    v_fine = np.geomspace(1e-8, 40.0, 4000)
    table = np.empty((a_grid.size, w_grid.size))
    with np.errstate(all="ignore"):
        a_col = a_grid[:, None]
        u = _normalised_price(a_col, np.exp(-0.5 * a_col), np.exp(0.5 * a_col), v_fine)
        u *= np.exp(0.5 * a_col)  # the OTM price as a fraction of its ceiling
        w = 1.0 / np.sqrt(1.0 - np.log(u))
        for row, (w_row, u_row) in enumerate(zip(w, u, strict=True)):
            usable = (u_row > 0.0) & (u_row < 1.0)
            w_ok, v_ok = w_row[usable], v_fine[usable]
            increasing = np.concatenate(([True], np.diff(w_ok) > 0.0))
            w_ok, v_ok = w_ok[increasing], v_ok[increasing]
            ln_v = np.interp(w_grid, w_ok, np.log(v_ok))
            # Below the smallest representable price, v -> a w sqrt(2) as w -> 0:
            # extend the row along that asymptote (a = 0 never gets there).
            below = w_grid < w_ok[0]
            ln_v[below] = np.log(v_ok[0] * np.maximum(w_grid[below], 1e-3) / w_ok[0])
            table[row] = ln_v
    return table.reshape(-1)
