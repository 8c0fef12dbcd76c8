"""The American put's exercise boundary and price, vectorised over legs.

A put with strike 1 on a spot ``x`` (the spot over the strike), rate ``r``
> 0, dividend yield ``q`` >= 0, volatility ``sigma``, ``T`` years to expiry;
``metrics.american`` scales to the strike and brings calls here through
put-call symmetry.

1. Boundary: B(tau), exercise when the spot is at or under it with tau
   left, is Li's QD+ approximation (2010) solved by Halley steps at
   ``NODES`` Chebyshev-Lobatto points in sqrt(tau) over (0, sqrt(T)], and
   interpolated between them in H = ln(B / X)^2 (X = min(1, r / q), the
   boundary at expiry, at the node tau = 0): in these coordinates the
   boundary is smooth, so a few nodes describe it (the representation of
   Andersen, Lake and Offengelden 2016, as in QuantLib's QdPlusAmericanEngine).
2. Price: the European put plus the early-exercise premium, the integral
   over the boundary of r K e^{-rt} N(-d-) - q S e^{-qt} N(-d+) in sqrt(t)
   by ``PRICE_POINTS``-point Gauss-Legendre. The boundary does not depend on
   the spot, so the premium's first and second derivatives in the spot
   (delta and gamma) come from the same pass, analytically.

Why QD+ without ALO's fixed-point iterations: against QuantLib it is already
inside the tolerance the product holds (metrics/tests/test_american.py:
worst price error about half of max(0.5 %, $0.01), delta within 0.005); a
fixed-point step cuts the price error by three but doubles the cost, and
with few nodes the iteration does not settle to one answer, so a boundary
warm-started from nearby inputs would price differently from a cold one.
QD+ is a scalar equation per node solved to 1e-10, the same from any start.

Every quadrature point of every leg sits at the same place in the
interpolation's coordinate z = 2 sqrt(tau / T) - 1, so interpolating all of
them is one matrix product with a matrix computed once here. Legs run in
blocks of ``BLOCK`` so that (legs x points) temporaries stay in cache; the
only Python loops are over Halley steps and blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from metrics.greeks import Floats

NODES = 3
PRICE_POINTS = 6
QD_PLUS_MAX_STEPS = 16
# Halley stops after a step smaller than this (on the boundary over the
# strike): the error left is of the order of the step cubed.
QD_PLUS_TOLERANCE = 1e-5
# For a bump (vega, rho) from the unbumped boundary: the first step is
# already of this order, and its cube is far below what a bump can see.
BUMP_TOLERANCE = 1e-4
BLOCK = 2048

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _lobatto_points(n: int) -> Floats:
    """Chebyshev-Lobatto points on [-1, 1], ascending: z_0 = -1 is tau = 0."""
    return -np.cos(np.pi * np.arange(n + 1) / n)


def _interpolation_matrix(points: Floats, n: int) -> Floats:
    """Return M with M @ values_at_nodes = the interpolating polynomial at ``points``.

    Barycentric Lagrange form on Chebyshev-Lobatto points (weights (-1)^j,
    halved at both ends), exact where a point is a node.
    """
    nodes = _lobatto_points(n)
    weights = (-1.0) ** np.arange(n + 1)
    weights[[0, -1]] *= 0.5
    diff = points[:, None] - nodes[None, :]
    exact = np.isclose(diff, 0.0, atol=1e-15)
    with np.errstate(divide="ignore"):
        terms = weights / np.where(exact, 1.0, diff)
    matrix = terms / terms.sum(axis=1, keepdims=True)
    hit = exact.any(axis=1)
    matrix[hit] = exact[hit].astype(float)
    return matrix


@dataclass(frozen=True)
class _Scheme:
    """Nodes, quadrature and interpolation matrix, fixed for every leg."""

    tau_fraction: Floats  # (NODES,) tau / T at nodes 1..NODES (node 0 is tau = 0)
    # Price: Gauss-Legendre y in sqrt(t) = sqrt(T) (1 + y) / 2, where the
    # boundary has T - t left; per unit of T:
    t_fraction: Floats  # t / T = (1 + y)^2 / 4
    root_t_fraction: Floats  # sqrt(t / T) = (1 + y) / 2
    weight_fraction: Floats  # dt weight / T = w (1 + y) / 2
    price_matrix: Floats  # (PRICE_POINTS, NODES): H at the points from H at nodes 1..NODES


def _build_scheme() -> _Scheme:
    nodes = _lobatto_points(NODES)[1:]
    price_y, price_w = np.polynomial.legendre.leggauss(PRICE_POINTS)
    points = 2.0 * np.sqrt(1.0 - 0.25 * (1.0 + price_y) ** 2) - 1.0
    # Column 0 is the node at tau = 0, where H = 0: it drops out.
    matrix = _interpolation_matrix(points, NODES)[:, 1:]
    return _Scheme(
        tau_fraction=0.25 * (1.0 + nodes) ** 2,
        t_fraction=(0.25 * (1.0 + price_y) ** 2)[None, :],
        root_t_fraction=(0.5 * (1.0 + price_y))[None, :],
        weight_fraction=(0.5 * price_w * (1.0 + price_y))[None, :],
        price_matrix=np.ascontiguousarray(matrix),
    )


SCHEME = _build_scheme()


def _pdf(d):
    return np.exp(-0.5 * d * d) * _INV_SQRT_2PI


def _ceiling(r, q):
    """X = min(1, r / q): the boundary at expiry over the strike."""
    return np.where(q > r, r / np.where(q > 0.0, q, 1.0), 1.0)


# --------------------------------------------------------------------------
# QD+ start (Li 2010)


def _qd_plus(r, q, sigma, tau, start=None, tolerance=QD_PLUS_TOLERANCE):
    """Return the QD+ boundary over the strike at tau; (legs, nodes) arrays.

    Halley steps on Li's equation from ``start`` if given (a boundary for
    nearby inputs), else from the Barone-Adesi-Whaley seed, each node until
    a step moves it by less than ``tolerance``. Converged entries leave
    the working arrays, so late steps cost only what is left.
    """
    shape = tau.shape
    r, q, sigma = (np.broadcast_to(x[:, None], shape).reshape(-1) for x in (r, q, sigma))
    tau = tau.reshape(-1)
    sigma2 = sigma * sigma
    dr = np.exp(-r * tau)
    dq = np.exp(-q * tau)
    v = sigma * np.sqrt(tau)
    omega = 2.0 * (r - q) / sigma2
    h = -np.expm1(-r * tau)
    root = np.sqrt((omega - 1.0) ** 2 + 8.0 * r / (sigma2 * h))
    lam = 0.5 * (-(omega - 1.0) - root)
    lam_prime = 2.0 * r / (sigma2 * h * h * root)
    alpha = 2.0 * dr * r / (sigma2 * (2.0 * lam + omega - 1.0))
    beta = alpha * (1.0 / h + lam_prime / (2.0 * lam + omega - 1.0)) - lam
    ceiling = _ceiling(r, q)
    x = _seed(r, q, sigma, tau)
    if start is not None:
        # A leg priced in closed form last time has no boundary to start from.
        start = start.reshape(-1)
        usable = np.isfinite(start) & (start > 0.0)
        x[usable] = start[usable]
    x = np.minimum(x, ceiling)
    out = x.copy()
    # Per-entry constants of the step (see _qd_plus_step for their use).
    coef = alpha / (r * dr)
    inv_v = 1.0 / v
    inv_2tau = 0.5 / tau
    coef_kq = coef * (r - q) * inv_v
    work = {
        "index": np.arange(x.size),
        "x": x,
        "v": v,
        "inv_v": inv_v,
        "d0": (r - q) * tau * inv_v + 0.5 * v,
        "dq": dq,
        "dr": dr,
        "log_dq_pdf": -q * tau + np.log(_INV_SQRT_2PI),
        "one_beta": 1.0 + beta,
        "beta": beta,
        "beta_ar": beta + coef * r,
        "aq": coef * q,
        "a_var_v": coef * 0.5 * sigma2 * inv_v,
        "a_kq": coef_kq,
        "a_2tau": coef * inv_2tau,
        "f2_const": 1.0 + beta + coef * q,
        "f2_dp": coef_kq - inv_v,
        "ceiling": ceiling,
    }
    for _ in range(QD_PLUS_MAX_STEPS):
        new = _qd_plus_step(**{k: val for k, val in work.items() if k != "index"})
        out[work["index"]] = new
        moving = np.abs(new - work["x"]) > tolerance
        work["x"] = new
        if not moving.any():
            break
        if moving.mean() < 0.75:
            work = {k: val[moving] for k, val in work.items()}
    return out.reshape(shape)


def _seed(r, q, sigma, tau):
    """Barone-Adesi-Whaley's start for the put boundary (strike 1)."""
    m = 2.0 * r / (sigma * sigma)
    n = 2.0 * (r - q) / (sigma * sigma)
    q2 = 0.5 * (-(n - 1.0) - np.sqrt((n - 1.0) ** 2 + 4.0 * m))
    perpetual = 1.0 / (1.0 - 1.0 / q2)
    h = ((r - q) * tau - 2.0 * sigma * np.sqrt(tau)) / (1.0 - perpetual)
    return perpetual + (1.0 - perpetual) * np.exp(h)


def _qd_plus_step(
    x,
    v,
    inv_v,
    d0,
    dq,
    dr,
    log_dq_pdf,
    one_beta,
    beta,
    beta_ar,
    aq,
    a_var_v,
    a_kq,
    a_2tau,
    f2_const,
    f2_dp,
    ceiling,
):
    """One Halley step on QD+'s equation f(x) = 0 for the put boundary x (strike 1).

    Li's equation, (1 - dq N(-d+)) x + (lambda + c0)(1 - x - p) = 0 with p
    the European put, c0's 1 / (1 - x - p) multiplied out (no division near
    the boundary) and a = alpha / (r dr):

        f = (1 + beta)(1 - P) x - beta + (beta + a r) C - a x (q P + sigma^2 D / (2 v))

    with P = dq N(-d+), C = dr N(-d-), D = dq n(d+), v = sigma sqrt(tau);
    f' and f'' from the European put's delta, gamma, charm and colour.
    """
    dp = np.log(x) * inv_v + d0
    dm = dp - v
    cdf = dq * ndtr(-dp)
    dens = np.exp(log_dq_pdf - 0.5 * dp * dp)
    not_cdf = 1.0 - cdf
    f = x * (one_beta * not_cdf - aq * cdf - a_var_v * dens) - beta + beta_ar * dr * ndtr(-dm)
    f1 = one_beta * not_cdf - aq * cdf + dens * (inv_v - a_kq + a_2tau * dm)
    f2 = dens * inv_v / x * (f2_const + f2_dp * dp + a_2tau * (1.0 - dp * dm))
    step = f / (f1 - 0.5 * f * f2 / f1)
    step = np.where(np.isfinite(step), step, 0.0)
    # The boundary lies in (0, X].
    return np.clip(x - step, 1e-12, ceiling)


# --------------------------------------------------------------------------
# Boundary


def put_boundary(
    r: Floats,
    q: Floats,
    sigma: Floats,
    years: Floats,
    start: Floats | None = None,
    tolerance: float = QD_PLUS_TOLERANCE,
) -> Floats:
    """Return the exercise boundary over the strike at nodes 1..NODES, (legs, NODES).

    ``start``: a boundary for nearby inputs (a bumped volatility or rate, the
    previous step of an implied-volatility search), from which Halley needs
    a step or two instead of five or six. The answer is the same to
    QD_PLUS_TOLERANCE either way.
    """
    m = r.size
    out = np.empty((m, NODES))
    fraction = SCHEME.tau_fraction[None, :]
    for first in range(0, m, BLOCK):
        sl = slice(first, first + BLOCK)
        tau = years[sl, None] * fraction
        warm = None if start is None else start[sl]
        out[sl] = _qd_plus(r[sl], q[sl], sigma[sl], tau, warm, tolerance)
    return out


# --------------------------------------------------------------------------
# Price


def put_value(
    x: Floats,
    r: Floats,
    q: Floats,
    sigma: Floats,
    years: Floats,
    boundary: Floats,
    *,
    derivatives: bool = True,
) -> tuple[Floats, Floats | None, Floats | None]:
    """Return the put's (price, d/dx, d2/dx2) over the strike at spot/strike ``x``.

    ``boundary`` is ``put_boundary``'s output for the same legs. Where x is at
    or under the boundary now, the put is exercised: 1 - x, -1, 0. Without
    ``derivatives`` the last two are None (an implied-volatility search
    needs only the price).
    """
    m = x.size
    price = np.empty(m)
    first = np.empty(m) if derivatives else None
    second = np.empty(m) if derivatives else None
    for start in range(0, m, BLOCK):
        sl = slice(start, start + BLOCK)
        values = _value_block(x[sl], r[sl], q[sl], sigma[sl], years[sl], boundary[sl], derivatives)
        price[sl] = values[0]
        if derivatives:
            first[sl], second[sl] = values[1], values[2]
    return price, first, second


def _value_block(x, r, q, sigma, years, boundary, derivatives):
    ceiling = _ceiling(r, q)
    log_x = np.log(x)
    # ln(x / B) at the quadrature points, with B = X exp(-sqrt(H)) and H
    # interpolated: no exp and log per point.
    h = np.log(boundary / ceiling[:, None]) ** 2
    log_ratio = np.sqrt(np.maximum(h @ SCHEME.price_matrix.T, 0.0))
    log_ratio += (log_x - np.log(ceiling))[:, None]
    t = years[:, None] * SCHEME.t_fraction
    v = (sigma * np.sqrt(years))[:, None] * SCHEME.root_t_fraction
    # dt = 2 sqrt(t) d(sqrt t) and d(sqrt t) = sqrt(T) / 2 dy.
    weight = years[:, None] * SCHEME.weight_fraction
    r2 = r[:, None]
    dp = log_ratio
    dp += (r - q)[:, None] * t
    dp /= v
    dp += 0.5 * v
    dm = dp - v
    a = np.exp(-r2 * t)
    a *= r2
    a *= weight
    c = np.exp(-q[:, None] * t)
    c *= (q * x)[:, None]
    c *= weight  # q x e^{-qt} w
    cdf_p = ndtr(-dp)
    premium = (a * ndtr(-dm) - c * cdf_p).sum(axis=1)
    # The European put, strike 1.
    vt = sigma * np.sqrt(years)
    d1 = (log_x + (r - q) * years) / vt + 0.5 * vt
    d2 = d1 - vt
    dq = np.exp(-q * years)
    cdf_1 = ndtr(-d1)
    positive = premium > 0.0
    price = np.exp(-r * years) * ndtr(-d2) - x * dq * cdf_1 + np.where(positive, premium, 0.0)
    exercised = x <= boundary[:, -1]
    intrinsic = np.maximum(1.0 - x, 0.0)
    price = np.where(exercised, intrinsic, np.maximum(price, intrinsic))
    if not derivatives:
        return price, None, None
    x2 = x[:, None]
    # With A = r e^{-rt} w and C = q x e^{-qt} w, the premium's integrand is
    # A N(-d-) - C N(-d+); d+- move with ln x at rate 1 / v.
    a_pdf = a * _pdf(dm) / v
    c_pdf = c * _pdf(dp) / v
    d_premium = ((c_pdf - a_pdf - c * cdf_p) / x2).sum(axis=1)
    d2_premium = ((a_pdf * (1.0 + dm / v) + c_pdf * (1.0 - dp / v)) / (x2 * x2)).sum(axis=1)
    first = -dq * cdf_1 + np.where(positive, d_premium, 0.0)
    second = dq * _pdf(d1) / (x * vt) + np.where(positive, d2_premium, 0.0)
    first = np.where(exercised, -1.0, np.clip(first, -1.0, 0.0))
    second = np.where(exercised, 0.0, second)
    return price, first, second
