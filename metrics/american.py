"""American option prices, greeks and implied volatility over NumPy arrays.

Model: Bjerksund-Stensland (2002), the two-step flat-boundary approximation,
in the generalised Black-Scholes form with cost of carry ``b``:

- equity, ETF and index options: ``b = r - q`` with ``q`` the continuous
  dividend yield (discrete dividends are out of scope: a stock about to go
  ex-dividend is priced as if it paid a yield);
- futures options: ``b = 0`` (Black's model; the futures price is the spot).

A call with ``b >= r`` is never exercised early and takes the European
price; puts use the put-call transformation P(S, K, T, r, b) = C(K, S, T,
r - b, -b). The result is floored at the European price and at immediate
exercise, so an American price is never below either.

Greeks are vectorised central finite differences of that price (each bump
prices every leg in one call):

- delta and gamma: spot +/- 0.1 % of spot;
- theta: expiry +/- min(1e-4 years, T/4), as $ per calendar day;
- vega: volatility +/- min(1e-4, sigma/2), as $ per volatility point;
- rho: rate +/- 1e-4 (one basis point; for equity options the carry moves
  with the rate, for futures options it stays 0), as $ per percentage point.

Implied volatility is solved with this same model (bracketed secant steps
from the European implied volatility), so price -> IV -> price round-trips.
Units as in ``metrics.greeks``: per share or futures unit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from metrics import greeks
from metrics.greeks import SIGMA_MAX, SIGMA_MIN, Floats, Greeks, ImpliedVolatility, IVStatus

# The 2002 paper splits the life at t1 = (sqrt(5) - 1) / 2 * T, so the
# bivariate normals it needs all have the same correlation sqrt(t1 / T).
_T1_FRACTION = 0.5 * (math.sqrt(5.0) - 1.0)
_SQRT_T1_FRACTION = math.sqrt(_T1_FRACTION)
# Gauss-Legendre nodes over the angle in the bivariate normal's integral form
# (Genz / Drezner-Wesolowsky): 12 nodes are exact to ~1e-14 at |rho| = 0.786.
_BVN_NODES = 12

SPOT_BUMP = 1e-3  # relative
YEARS_BUMP = 1e-4
SIGMA_BUMP = 1e-4
RATE_BUMP = 1e-4
_IV_PRICE_TOLERANCE = 1e-10  # per share: well inside the 1e-6 round trip
_IV_MAX_ITERATIONS = 60

_CODE = {status: np.int8(code) for code, status in enumerate(greeks.IV_STATUSES)}


def _bvn_weights() -> tuple[Floats, Floats, Floats]:
    """Return (sin theta, 1 / (2 cos^2 theta), weight / 2 pi) over [0, asin rho]."""
    nodes, weights = np.polynomial.legendre.leggauss(_BVN_NODES)
    half_angle = 0.5 * math.asin(_SQRT_T1_FRACTION)
    theta = half_angle * (nodes + 1.0)
    sin_theta = np.sin(theta)
    return sin_theta, 0.5 / (1.0 - sin_theta**2), weights * half_angle / (2.0 * math.pi)


_BVN_SIN, _BVN_INV_2COS2, _BVN_W = _bvn_weights()


def bivariate_normal_cdf(a: Floats, b: Floats, positive: bool) -> Floats:
    """Return P(X < a, Y < b) for standard normals with correlation +/- sqrt(t1 / T).

    P = N(a) N(b) + 1/(2 pi) * integral over theta in [0, asin rho] of
    exp(-(a^2 + b^2 - 2 a b sin theta) / (2 cos^2 theta)).
    """
    squares = a * a + b * b
    cross = 2.0 * a * b
    if not positive:
        cross = -cross
    total = np.zeros(a.shape)
    for sin_theta, inv_2cos2, weight in zip(_BVN_SIN, _BVN_INV_2COS2, _BVN_W, strict=True):
        total += weight * np.exp((sin_theta * cross - squares) * inv_2cos2)
    if not positive:
        total = -total
    return ndtr(a) * ndtr(b) + total


def _phi(log_s, t, gamma, log_h, log_i, r, b, sigma, log_scale):
    """Return exp(log_scale) * phi(S, t, gamma, H, I) of the paper, in logs to avoid overflow."""
    v2 = sigma * sigma
    vol_t = sigma * np.sqrt(t)
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t
    d = -((log_s - log_h) + (b + (gamma - 0.5) * v2) * t) / vol_t
    kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
    log_i_over_s = log_i - log_s
    base = log_scale + lam + gamma * log_s
    return np.exp(base) * ndtr(d) - np.exp(base + kappa * log_i_over_s) * ndtr(
        d - 2.0 * log_i_over_s / vol_t
    )


def _psi(log_s, big_t, gamma, log_h, log_i2, log_i1, t1, r, b, sigma, log_scale):
    """Return exp(log_scale) * psi(S, T, gamma, H, I2, I1, t1) of the paper."""
    v2 = sigma * sigma
    drift = b + (gamma - 0.5) * v2
    vol_t1 = sigma * np.sqrt(t1)
    vol_t = sigma * np.sqrt(big_t)
    log_s_i1 = log_s - log_i1
    log_i2sq_s_i1 = 2.0 * log_i2 - log_s - log_i1
    e1 = (log_s_i1 + drift * t1) / vol_t1
    e2 = (log_i2sq_s_i1 + drift * t1) / vol_t1
    e3 = (log_s_i1 - drift * t1) / vol_t1
    e4 = (log_i2sq_s_i1 - drift * t1) / vol_t1
    drift_t = drift * big_t
    f1 = (log_s - log_h + drift_t) / vol_t
    f2 = (2.0 * log_i2 - log_s - log_h + drift_t) / vol_t
    f3 = (2.0 * log_i1 - log_s - log_h + drift_t) / vol_t
    f4 = (log_s + 2.0 * log_i1 - log_h - 2.0 * log_i2 + drift_t) / vol_t
    lam = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * big_t
    kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0)
    base = log_scale + lam + gamma * log_s
    return (
        np.exp(base) * bivariate_normal_cdf(-e1, -f1, True)
        - np.exp(base + kappa * (log_i2 - log_s)) * bivariate_normal_cdf(-e2, -f2, True)
        - np.exp(base + kappa * (log_i1 - log_s)) * bivariate_normal_cdf(-e3, -f3, False)
        + np.exp(base + kappa * (log_i1 - log_i2)) * bivariate_normal_cdf(-e4, -f4, False)
    )


def _call_2002(S, K, T, r, b, sigma):
    """Return the Bjerksund-Stensland 2002 call price; every input a same-length array, b < r."""
    v2 = sigma * sigma
    t1 = _T1_FRACTION * T
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_infinity = beta / (beta - 1.0) * K
    b_zero = np.maximum(K, r / (r - b) * K)
    spread = b_infinity - b_zero
    scale = K * K / (spread * b_zero)
    h1 = -(b * t1 + 2.0 * sigma * np.sqrt(t1)) * scale
    h2 = -(b * T + 2.0 * sigma * np.sqrt(T)) * scale
    i1 = b_zero - spread * np.expm1(h1)
    i2 = b_zero - spread * np.expm1(h2)
    exercise = S >= i2
    price = np.where(exercise, S - K, np.nan)
    live = np.flatnonzero(~exercise)
    if live.size == 0:
        return price
    S, K, T, r, b, sigma, t1, beta, i1, i2 = (
        x[live] for x in (S, K, T, r, b, sigma, t1, beta, i1, i2)
    )
    log_s, log_k, log_i1, log_i2 = np.log(S), np.log(K), np.log(i1), np.log(i2)
    # alpha_j * S^beta = (I_j - K) (S / I_j)^beta: folded into log_scale.
    log_alpha2 = np.log(i2 - K) - beta * log_i2
    log_alpha1 = np.log(i1 - K) - beta * log_i1
    zero = np.zeros(live.size)
    one = np.ones(live.size)
    log_k_scale = log_k

    def phi(gamma, log_h, log_i, log_scale):
        return _phi(log_s, t1, gamma, log_h, log_i, r, b, sigma, log_scale)

    def psi(gamma, log_h, log_scale):
        return _psi(log_s, T, gamma, log_h, log_i2, log_i1, t1, r, b, sigma, log_scale)

    value = (
        np.exp(log_alpha2 + beta * log_s)
        - phi(beta, log_i2, log_i2, log_alpha2)
        + phi(one, log_i2, log_i2, zero)
        - phi(one, log_i1, log_i2, zero)
        - phi(zero, log_i2, log_i2, log_k_scale)
        + phi(zero, log_i1, log_i2, log_k_scale)
        + phi(beta, log_i1, log_i2, log_alpha1)
        - psi(beta, log_i1, log_alpha1)
        + psi(one, log_i1, zero)
        - psi(one, log_k, zero)
        - psi(zero, log_i1, log_k_scale)
        + psi(zero, log_k, log_k_scale)
    )
    price[live] = value
    return price


def _european(S, K, T, r, b, sigma, is_call):
    """Return the generalised Black-Scholes price with carry b (q = r - b)."""
    sign = np.where(is_call, 1.0, -1.0)
    vol_t = sigma * np.sqrt(T)
    d1 = (np.log(S / K) + (b + 0.5 * sigma * sigma) * T) / vol_t
    d2 = d1 - vol_t
    return sign * (S * np.exp((b - r) * T) * ndtr(sign * d1) - K * np.exp(-r * T) * ndtr(sign * d2))


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
    """Return the American price per share (Bjerksund-Stensland 2002, carry b).

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
        alive = np.flatnonzero(T > 0.0)
        if alive.size:
            price[alive] = _alive_price(*(x[alive] for x in (S, K, T, r, b, vol, call)))
            price[alive] = np.fmax(price[alive], intrinsic[alive])
        price[np.isnan(T) | np.isnan(vol)] = np.nan
    return price.reshape(shape)


def _alive_price(S, K, T, r, b, sigma, is_call):
    european = _european(S, K, T, r, b, sigma, is_call)
    # Put-call transformation: a put is a call on K struck at S, rate r - b, carry -b.
    spot_c = np.where(is_call, S, K)
    strike_c = np.where(is_call, K, S)
    rate_c = np.where(is_call, r, r - b)
    carry_c = np.where(is_call, b, -b)
    early = np.flatnonzero((carry_c < rate_c) & np.isfinite(european))
    price = european.copy()
    if early.size:
        approx = _call_2002(
            *(x[early] for x in (spot_c, strike_c, T, rate_c, carry_c, sigma)),
        )
        # Tiny volatilities overflow the approximation's powers; there the
        # European price (floored at intrinsic by the caller) is the limit.
        approx[~np.isfinite(approx)] = np.nan
        price[early] = np.fmax(approx, european[early])
    return price


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
) -> Greeks:
    """Return American price and greeks per share by central differences.

    ``carry_offset`` is the dividend yield q for equity options (b = r - q);
    for legs where ``futures`` is True the carry is 0 whatever the rate.
    Units as ``metrics.greeks.Greeks``: theta per calendar day, vega per
    volatility point, rho per percentage point. Expired legs: intrinsic value,
    delta 0 or +/-1, other greeks 0.
    """
    S, K, T, q, vol, call, fut = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (spot, strike, years, carry_offset, sigma)),
        np.asarray(is_call, dtype=bool),
        np.asarray(futures, dtype=bool),
    )
    shape = S.shape
    S, K, T, q, vol, call, fut = (x.reshape(-1) for x in (S, K, T, q, vol, call, fut))
    r = np.full(S.shape, float(rate))

    def price(spot=S, years=T, rates=r, sigma=vol):
        carry = np.where(fut, 0.0, rates - q)
        return american_price(
            spot=spot, strike=K, years=years, rate=rates, carry=carry, sigma=sigma, is_call=call
        )

    with np.errstate(all="ignore"):
        value = price()
        ds = SPOT_BUMP * S
        up, down = price(spot=S + ds), price(spot=S - ds)
        delta = (up - down) / (2.0 * ds)
        gamma = (up - 2.0 * value + down) / (ds * ds)
        dt = np.minimum(YEARS_BUMP, 0.25 * T)
        theta = -(price(years=T + dt) - price(years=T - dt)) / (2.0 * dt) / greeks.DAYS_PER_YEAR
        dv = np.minimum(SIGMA_BUMP, 0.5 * vol)
        vega = (price(sigma=vol + dv) - price(sigma=vol - dv)) / (2.0 * dv) * 0.01
        rho = (price(rates=r + RATE_BUMP) - price(rates=r - RATE_BUMP)) / (2.0 * RATE_BUMP) * 0.01
        expired = T <= 0.0
        if expired.any():
            itm = call[expired] == (S[expired] > K[expired])
            itm &= S[expired] != K[expired]
            delta[expired] = np.where(itm, np.where(call[expired], 1.0, -1.0), 0.0)
            for greek in (gamma, theta, vega, rho):
                greek[expired] = 0.0
            bad = np.isnan(S[expired])
            for greek in (delta, gamma, theta, vega, rho):
                greek[np.flatnonzero(expired)[bad]] = np.nan
    outputs = (value, delta, gamma, theta, vega, rho)
    return Greeks(*(x.reshape(shape) for x in outputs))


def american_implied_volatility(
    *,
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    carry_offset: ArrayLike,
    is_call: ArrayLike,
    futures: ArrayLike = False,
) -> ImpliedVolatility:
    """Solve the American volatility (annual fraction) from per-share prices.

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
        pending = np.flatnonzero(code == _CODE[IVStatus.SOLVED])
        if pending.size:
            sigma[pending], code[pending] = _solve(
                *(x[pending] for x in (P, S, K, T, q, call, fut)), rate
            )
    return ImpliedVolatility(sigma.reshape(shape), code.reshape(shape))


def _solve(P, S, K, T, q, call, fut, rate):
    """Return (sigma, status code) for legs whose price is inside the static bounds."""
    r = np.full(P.shape, rate)
    carry = np.where(fut, 0.0, rate - q)

    def model(index, sigma):
        return american_price(
            spot=S[index],
            strike=K[index],
            years=T[index],
            rate=r[index],
            carry=carry[index],
            sigma=sigma,
            is_call=call[index],
        )

    everything = np.arange(P.size)
    code = np.full(P.size, _CODE[IVStatus.SOLVED])
    low = np.full(P.size, SIGMA_MIN)
    high = np.full(P.size, SIGMA_MAX)
    f_low = model(everything, low) - P
    f_high = model(everything, high) - P
    code[(f_low > 0.0) | (f_high < 0.0) | np.isnan(f_low) | np.isnan(f_high)] = _CODE[
        IVStatus.OUT_OF_RANGE
    ]
    # A <= f(sigma) is increasing; the European IV of the same price is an
    # upper bound and usually within a few per cent of the answer.
    european = greeks.implied_volatility(
        price=P, spot=S, strike=K, years=T, rate=rate, dividend_yield=rate - carry, is_call=call
    ).sigma
    start = np.where(np.isfinite(european), european, np.sqrt(low * high))
    start = np.clip(start, low, high)
    sigma = np.full(P.size, np.nan)
    active = np.flatnonzero(code == _CODE[IVStatus.SOLVED])
    if active.size == 0:
        return sigma, code
    x0 = start[active]
    f0 = model(active, x0) - P[active]
    lo, hi, f_lo, f_hi = low[active], high[active], f_low[active], f_high[active]
    x1 = np.where(f0 > 0.0, x0 * 0.98, x0 * 1.02)
    converged = np.zeros(active.size, dtype=bool)
    result = x0.copy()
    index = np.arange(active.size)
    for _ in range(_IV_MAX_ITERATIONS):
        # Keep the bracket around the root.
        above = f0 > 0.0
        hi, f_hi = np.where(above, x0, hi), np.where(above, f0, f_hi)
        lo, f_lo = np.where(above, lo, x0), np.where(above, f_lo, f0)
        done = np.abs(f0) <= _IV_PRICE_TOLERANCE
        done |= hi - lo <= 1e-15 * hi
        if done.any():
            result[index[done]] = x0[done]
            converged[index[done]] = True
            keep = ~done
            index, x0, x1, f0, lo, hi, f_lo, f_hi = (
                x[keep] for x in (index, x0, x1, f0, lo, hi, f_lo, f_hi)
            )
            if index.size == 0:
                break
        x1 = np.clip(x1, lo, hi)
        f1 = model(active[index], x1) - P[active[index]]
        slope = (f1 - f0) / (x1 - x0)
        step = np.where((slope > 0.0) & np.isfinite(slope), x1 - f1 / slope, np.nan)
        # Regula-falsi fallback when the secant leaves the bracket or stalls.
        falsi = lo - f_lo * (hi - lo) / (f_hi - f_lo)
        inside = (step > lo) & (step < hi)
        x_next = np.where(
            inside, step, np.where((falsi > lo) & (falsi < hi), falsi, 0.5 * (lo + hi))
        )
        x0, f0, x1 = x1, f1, x_next
    sigma[active] = np.where(converged, result, np.nan)
    code[active[~converged]] = _CODE[IVStatus.NOT_CONVERGED]
    return sigma, code
