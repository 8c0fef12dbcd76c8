"""Option pricing for the sandbox: Black-Scholes-Merton and Black-76.

Greeks are per share or unit: theta per calendar day, vega and rho per point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class OptionValue:
    price: float
    delta: float
    gamma: float
    theta: float  # per calendar day
    vega: float  # per 1 volatility point
    rho: float  # per 1 rate point


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black_scholes(
    *,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    dividend_yield: float,
    volatility: float,
    is_call: bool,
) -> OptionValue:
    """Return the BSM value of a European option and its greeks."""
    if years <= 0 or volatility <= 0:
        intrinsic = max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
        delta = (1.0 if spot > strike else 0.0) if is_call else (-1.0 if spot < strike else 0.0)
        return OptionValue(intrinsic, delta, 0.0, 0.0, 0.0, 0.0)
    root_t = math.sqrt(years)
    d1 = (
        math.log(spot / strike) + (rate - dividend_yield + 0.5 * volatility * volatility) * years
    ) / (volatility * root_t)
    d2 = d1 - volatility * root_t
    carry = math.exp(-dividend_yield * years)
    discount = math.exp(-rate * years)
    gamma = carry * norm_pdf(d1) / (spot * volatility * root_t)
    vega = spot * carry * norm_pdf(d1) * root_t
    decay = -spot * carry * norm_pdf(d1) * volatility / (2.0 * root_t)
    if is_call:
        price = spot * carry * norm_cdf(d1) - strike * discount * norm_cdf(d2)
        delta = carry * norm_cdf(d1)
        theta = (
            decay
            - rate * strike * discount * norm_cdf(d2)
            + dividend_yield * spot * carry * norm_cdf(d1)
        )
        rho = strike * years * discount * norm_cdf(d2)
    else:
        price = strike * discount * norm_cdf(-d2) - spot * carry * norm_cdf(-d1)
        delta = -carry * norm_cdf(-d1)
        theta = (
            decay
            + rate * strike * discount * norm_cdf(-d2)
            - dividend_yield * spot * carry * norm_cdf(-d1)
        )
        rho = -strike * years * discount * norm_cdf(-d2)
    return OptionValue(
        price=max(price, 0.0),
        delta=delta,
        gamma=gamma,
        theta=theta / DAYS_PER_YEAR,
        vega=vega / 100.0,
        rho=rho / 100.0,
    )


def black76(
    *,
    forward: float,
    strike: float,
    years: float,
    rate: float,
    volatility: float,
    is_call: bool,
) -> OptionValue:
    """Return the Black-76 value of a European option on a future."""
    value = black_scholes(
        spot=forward,
        strike=strike,
        years=years,
        rate=rate,
        dividend_yield=rate,  # a future carries no cost: q = r
        volatility=volatility,
        is_call=is_call,
    )
    # With the future held fixed, rho is only the discounting: -T * price.
    return OptionValue(
        price=value.price,
        delta=value.delta,
        gamma=value.gamma,
        theta=value.theta,
        vega=value.vega,
        rho=-max(years, 0.0) * value.price / 100.0,
    )
