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
   (delta and gamma) come from the same pass, analytically; so do its
   derivatives in the rate, the dividend yield and the volatility (vega,
   rho), given the boundary's own response to them (``boundary_changes``,
   implicit differentiation of QD+'s equation).

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
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

from metrics.greeks import Floats

NODES = 3
PRICE_POINTS = 6
QD_PLUS_MAX_STEPS = 16
# Halley stops after a step smaller than this (on the boundary over the
# strike): the error left is of the order of the step cubed.
QD_PLUS_TOLERANCE = 1e-5
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
    ceiling = _ceiling(r, q)
    if start is None:
        x = _seed(r, q, sigma, tau)
    else:
        # A leg priced in closed form last time has no boundary to start from.
        x = start.reshape(-1).copy()
        fresh = np.flatnonzero(~(np.isfinite(x) & (x > 0.0)))
        if fresh.size:
            x[fresh] = _seed(r[fresh], q[fresh], sigma[fresh], tau[fresh])
    x = np.minimum(x, ceiling)
    out = x.copy()
    work = {
        "index": np.arange(x.size),
        "x": x,
        "ceiling": ceiling,
        **_qd_plus_terms(r, q, sigma, tau),
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


def _qd_plus_terms(r, q, sigma, tau):
    """Per-entry constants of Li's equation at (r, q, sigma, tau), flat arrays.

    Named as ``_qd_plus_residual`` takes them (see it for their use).
    """
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
    coef = alpha / (r * dr)
    inv_v = 1.0 / v
    coef_kq = coef * (r - q) * inv_v
    return {
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
        "a_2tau": coef * 0.5 / tau,
        "f2_const": 1.0 + beta + coef * q,
        "f2_dp": coef_kq - inv_v,
    }


def _seed(r, q, sigma, tau):
    """Barone-Adesi-Whaley's start for the put boundary (strike 1)."""
    m = 2.0 * r / (sigma * sigma)
    n = 2.0 * (r - q) / (sigma * sigma)
    q2 = 0.5 * (-(n - 1.0) - np.sqrt((n - 1.0) ** 2 + 4.0 * m))
    perpetual = 1.0 / (1.0 - 1.0 / q2)
    h = ((r - q) * tau - 2.0 * sigma * np.sqrt(tau)) / (1.0 - perpetual)
    return perpetual + (1.0 - perpetual) * np.exp(h)


def _qd_plus_step(x, ceiling, **terms):
    """One Halley step on QD+'s equation f(x) = 0 for the put boundary x (strike 1)."""
    f, f1, f2 = _qd_plus_residual(x, **terms)
    step = f / (f1 - 0.5 * f * f2 / f1)
    step = np.where(np.isfinite(step), step, 0.0)
    # The boundary lies in (0, X].
    return np.clip(x - step, 1e-12, ceiling)


def _qd_plus_residual(
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
    second=True,
):
    """Return QD+'s f(x), f'(x) and (``second``) f''(x) for the put boundary x (strike 1).

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
    if not second:
        return f, f1, None
    f2 = dens * inv_v / x * (f2_const + f2_dp * dp + a_2tau * (1.0 - dp * dm))
    return f, f1, f2


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

    ``start``: a boundary for nearby inputs (the previous step of an
    implied-volatility search, the solve's answer for greeks at the solved
    volatility), from which Halley needs a step or so instead of about
    three. The answer is the same to QD_PLUS_TOLERANCE either way.
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


class Direction(NamedTuple):
    """A direction of change in the put's inputs, per unit step.

    ``rate``, ``dividend_yield`` and ``sigma``: (legs,) changes of r, q and
    sigma per unit; ``log_boundary``: (legs, NODES), the matching change of
    ln B at the nodes (``boundary_changes``), None until it is known.
    """

    rate: Floats
    dividend_yield: Floats
    sigma: Floats
    log_boundary: Floats | None = None

    def at(self, index) -> Direction:
        """The same direction for the legs at ``index`` (a slice or an index array)."""
        return Direction(*(None if part is None else part[index] for part in self))


def boundary_changes(
    r: Floats,
    q: Floats,
    sigma: Floats,
    years: Floats,
    boundary: Floats,
    directions: tuple[tuple[Direction, float], ...],
) -> list[Floats]:
    """Return d ln B / d(step) along each direction at the nodes, (legs, NODES) each.

    Implicit differentiation of QD+'s equation at the solved boundary:
    dB = -(f(B; inputs + step) - f(B; inputs)) / f'(B), the difference in
    the inputs taken at the fixed B over ``step``. Subtracting f(B; inputs),
    the solve's own residual, keeps that residual out of the answer. Where
    the boundary sits on its ceiling X = min(1, r / q) it moves with X.
    """
    out = [np.empty_like(boundary) for _ in directions]
    fraction = SCHEME.tau_fraction[None, :]
    for first in range(0, r.size, BLOCK):
        sl = slice(first, first + BLOCK)
        tau = years[sl, None] * fraction
        shape = tau.shape

        def flat(values, sl=sl, shape=shape):
            return np.broadcast_to(values[sl, None], shape).reshape(-1)

        x = boundary[sl].reshape(-1)
        base = (flat(r), flat(q), flat(sigma))
        f, f1, _ = _qd_plus_residual(x, **_qd_plus_terms(*base, tau.reshape(-1)), second=False)
        on_ceiling = x >= _ceiling(base[0], base[1]) * (1.0 - 1e-12)
        for target, (direction, step) in zip(out, directions, strict=True):
            dr, dq, ds = (
                flat(part) for part in (direction.rate, direction.dividend_yield, direction.sigma)
            )
            moved = (base[0] + step * dr, base[1] + step * dq, base[2] + step * ds)
            f_moved, _, _ = _qd_plus_residual(
                x, **_qd_plus_terms(*moved, tau.reshape(-1)), second=False
            )
            change = -(f_moved - f) / (step * f1 * x)
            with np.errstate(divide="ignore", invalid="ignore"):
                ceiling_change = np.where(base[1] > base[0], dr / base[0] - dq / base[1], 0.0)
            target[sl] = np.where(on_ceiling, ceiling_change, change).reshape(shape)
    return out


class PutValue(NamedTuple):
    """The put over the strike: price, d/dx, d2/dx2 and one change per direction."""

    price: Floats
    first: Floats | None
    second: Floats | None
    changes: tuple[Floats, ...] = ()


def european_put_change(x, r, q, sigma, years, direction: Direction, d1=None, d2=None):
    """Return the European put's (strike 1) change per unit step along ``direction``.

    dp = -T e^{-rT} N(-d2) dr + x T e^{-qT} N(-d1) dq
         - e^{-rT} n(d2) d(d2) + x e^{-qT} n(d1) d(d1),
    d(d1) = (dr - dq) T / (sigma sqrt T) - d2 dsigma / sigma, d(d2) = d(d1) - sqrt T dsigma.
    """
    root_t = np.sqrt(years)
    vt = sigma * root_t
    if d1 is None:
        d1 = (np.log(x) + (r - q) * years) / vt + 0.5 * vt
        d2 = d1 - vt
    discount = np.exp(-r * years)
    carry = x * np.exp(-q * years)
    dr, dq, ds = direction.rate, direction.dividend_yield, direction.sigma
    change_d1 = (dr - dq) * years / vt - d2 * ds / sigma
    change_d2 = change_d1 - root_t * ds
    return (
        -years * discount * ndtr(-d2) * dr
        + years * carry * ndtr(-d1) * dq
        - discount * _pdf(d2) * change_d2
        + carry * _pdf(d1) * change_d1
    )


def put_value(
    x: Floats,
    r: Floats,
    q: Floats,
    sigma: Floats,
    years: Floats,
    boundary: Floats,
    *,
    derivatives: bool = True,
    directions: tuple[Direction, ...] = (),
) -> PutValue:
    """Return the put's price, d/dx and d2/dx2 over the strike at spot/strike ``x``.

    ``boundary`` is ``put_boundary``'s output for the same legs. Where x is at
    or under the boundary now, the put is exercised: 1 - x, -1, 0. Without
    ``derivatives`` the two derivatives are None (an implied-volatility
    search needs only the price). For each of ``directions`` (vega's, rho's)
    the price's change per unit step along it, analytic in the premium's
    formula, the boundary moving as the direction says; 0 where exercised.
    """
    m = x.size
    price = np.empty(m)
    first = np.empty(m) if derivatives else None
    second = np.empty(m) if derivatives else None
    changes = tuple(np.empty(m) for _ in directions)
    for start in range(0, m, BLOCK):
        sl = slice(start, start + BLOCK)
        values = _value_block(
            x[sl],
            r[sl],
            q[sl],
            sigma[sl],
            years[sl],
            boundary[sl],
            derivatives,
            tuple(direction.at(sl) for direction in directions),
        )
        price[sl] = values.price
        if derivatives:
            first[sl], second[sl] = values.first, values.second
        for change, block in zip(changes, values.changes, strict=True):
            change[sl] = block
    return PutValue(price, first, second, changes)


def _value_block(x, r, q, sigma, years, boundary, derivatives, directions=()):
    ceiling = _ceiling(r, q)
    log_x = np.log(x)
    log_ceiling = np.log(ceiling)
    # ln(x / B) at the quadrature points, with B = X exp(-sqrt(H)) and H
    # interpolated: no exp and log per point.
    log_under = np.log(boundary) - log_ceiling[:, None]  # ln(B / X) <= 0 at the nodes
    h = log_under**2
    root_h = np.sqrt(np.maximum(h @ SCHEME.price_matrix.T, 0.0))
    # (In place unless the directions need sqrt(H) itself.)
    log_ratio = root_h.copy() if directions else root_h
    log_ratio += (log_x - log_ceiling)[:, None]
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
    a *= weight  # e^{-rt} w
    a_unit = a.copy() if directions else None
    a *= r2
    c = np.exp(-q[:, None] * t)
    c *= x[:, None] * weight  # x e^{-qt} w
    c_unit = c.copy() if directions else None
    c *= q[:, None]
    cdf_p = ndtr(-dp)
    cdf_m = ndtr(-dm)
    premium = (a * cdf_m - c * cdf_p).sum(axis=1)
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
    if not (derivatives or directions):
        return PutValue(price, None, None)
    # The premium's integrand is A N(-d-) - C N(-d+) with A = r e^{-rt} w and
    # C = q x e^{-qt} w; both d's move with ln(x / B) at rate 1 / v.
    pdf_m = _pdf(dm)
    pdf_p = _pdf(dp)
    changes = []
    if directions:
        # Where the price sits on a floor (exercise, intrinsic) it does not move.
        moves = ~exercised & (price > intrinsic)
        over = q > r  # X = min(1, r / q) moves with r and q only there
        for direction in directions:
            dr, dq_, ds = direction.rate, direction.dividend_yield, direction.sigma
            with np.errstate(divide="ignore", invalid="ignore"):
                log_ceiling_change = np.where(over, dr / r - dq_ / q, 0.0)
            # H = ln(B / X)^2 at the nodes, interpolated, and sqrt(H) enters ln(x / B).
            h_change = 2.0 * log_under * (direction.log_boundary - log_ceiling_change[:, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                root_change = np.where(
                    root_h > 0.0, (h_change @ SCHEME.price_matrix.T) / (2.0 * root_h), 0.0
                )
            ratio_change = root_change - log_ceiling_change[:, None]
            sigma_share = (ds / sigma)[:, None]
            dp_change = (ratio_change + (dr - dq_)[:, None] * t) / v - dm * sigma_share
            dm_change = dp_change - v * sigma_share
            a_change = a_unit * (1.0 - r2 * t) * dr[:, None]
            c_change = c_unit * (1.0 - q[:, None] * t) * dq_[:, None]
            premium_change = (
                a_change * cdf_m - c_change * cdf_p - a * pdf_m * dm_change + c * pdf_p * dp_change
            ).sum(axis=1)
            european_change = european_put_change(x, r, q, sigma, years, direction, d1, d2)
            total = european_change + np.where(positive, premium_change, 0.0)
            changes.append(np.where(moves, total, 0.0))
    if not derivatives:
        return PutValue(price, None, None, tuple(changes))
    x2 = x[:, None]
    a_pdf = a * pdf_m / v
    c_pdf = c * pdf_p / v
    d_premium = ((c_pdf - a_pdf - c * cdf_p) / x2).sum(axis=1)
    d2_premium = ((a_pdf * (1.0 + dm / v) + c_pdf * (1.0 - dp / v)) / (x2 * x2)).sum(axis=1)
    first = -dq * cdf_1 + np.where(positive, d_premium, 0.0)
    second = dq * _pdf(d1) / (x * vt) + np.where(positive, d2_premium, 0.0)
    first = np.where(exercised, -1.0, np.clip(first, -1.0, 0.0))
    second = np.where(exercised, 0.0, second)
    return PutValue(price, first, second, tuple(changes))
