"""Realistic books for the bench database: traders, portfolios and priced legs.

Legs come in strategy groups (credit spreads, strangles, iron condors, some
stock) on two dozen underlyings, expiries from a week to a year out, strikes
around the money; each option's mark is its Black-Scholes price at a known
volatility (rounded to the cent, as a broker quotes it), so implied
volatility solves as on a real book. Everything is seeded for repeatability.
Call the writers inside ``rls.as_service()``.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from decimal import Decimal

import jwt
import numpy as np

from bench.environment import CLERK_ISSUER
from bench.greeks import DAYS_PER_YEAR, RATE, floor_kernel

# (symbol, price $, beta against SPY, dividend yield)
UNDERLYINGS = [
    ("SPY", 580.0, 1.0, 0.012),
    ("QQQ", 505.0, 1.15, 0.006),
    ("IWM", 228.0, 1.2, 0.011),
    ("AAPL", 231.0, 1.1, 0.004),
    ("MSFT", 418.0, 0.95, 0.007),
    ("NVDA", 138.0, 1.7, 0.0003),
    ("AMZN", 197.0, 1.25, 0.0),
    ("GOOGL", 171.0, 1.05, 0.005),
    ("META", 565.0, 1.3, 0.0035),
    ("TSLA", 250.0, 2.0, 0.0),
    ("AMD", 152.0, 1.8, 0.0),
    ("JPM", 222.0, 1.1, 0.021),
    ("XOM", 118.0, 0.8, 0.032),
    ("KO", 63.0, 0.6, 0.03),
    ("DIS", 98.0, 1.1, 0.009),
    ("NFLX", 720.0, 1.3, 0.0),
    ("BA", 150.0, 1.4, 0.0),
    ("COST", 890.0, 0.8, 0.005),
    ("CRM", 290.0, 1.2, 0.005),
    ("GLD", 245.0, 0.1, 0.0),
    ("TLT", 93.0, -0.3, 0.04),
    ("XLE", 92.0, 0.9, 0.033),
    ("SMH", 240.0, 1.6, 0.004),
    ("UBER", 71.0, 1.4, 0.0),
]
SPY_PRICE = Decimal("580.00")
STRATEGIES = ("put_credit_spread", "call_credit_spread", "short_strangle", "iron_condor", "stock")
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def _money(value: float) -> Decimal:
    return Decimal(repr(round(value, 2))).quantize(CENT)


def _price(value: float) -> Decimal:
    return Decimal(repr(round(value, 6))).quantize(MICRO)


def occ_symbol(underlying: str, expiration: dt.date, option_type: str, strike: float) -> str:
    return f"{underlying:<6}{expiration:%y%m%d}{option_type}{round(strike * 1000):08d}"


def book_legs(size: int, *, seed: int, today: dt.date, tag: str = "") -> list[dict]:
    """Return `size` legs as positions-table field dicts (symbol unique), grouped by strategy.

    The dicts also serve as a broker snapshot's legs (portfolios.sync_apply).
    """
    rng = np.random.default_rng(seed)
    specs: list[dict] = []  # one per leg, before pricing
    used: set[tuple] = set()  # contracts already in the book: each symbol once
    group = 0
    while len(specs) < size:
        group += 1
        underlying, spot, beta, dividend = UNDERLYINGS[rng.integers(len(UNDERLYINGS))]
        strategy = STRATEGIES[rng.integers(len(STRATEGIES))]
        room = size - len(specs)
        if strategy == "iron_condor" and room < 4:
            strategy = "put_credit_spread"
        if strategy != "stock" and room < 2:
            strategy = "short_put"
        if strategy == "stock" and (underlying, None) in used:
            strategy = "short_put"  # one stock line per underlying
        days = int(rng.integers(7, 365))
        expiration = today + dt.timedelta(days=days + (4 - (today.weekday() + days)) % 7)
        width = max(1.0, round(spot * 0.02))
        contracts = int(rng.integers(1, 10))
        sigma = float(rng.uniform(0.15, 0.6))
        base = {
            "underlying": underlying,
            "spot": spot,
            "beta": beta,
            "dividend": dividend,
            "strategy": strategy,
            "group": f"{tag}g{group}",
            "expiration": expiration,
            "sigma": sigma,
        }
        otm = spot * float(rng.uniform(0.03, 0.12))
        if strategy == "stock":
            used.add((underlying, None))
            specs.append({**base, "option_type": None, "strike": None, "quantity": 100})
            continue
        legs = {
            "short_put": [("P", spot - otm, -1)],
            "put_credit_spread": [("P", spot - otm, -1), ("P", spot - otm - width, 1)],
            "call_credit_spread": [("C", spot + otm, -1), ("C", spot + otm + width, 1)],
            "short_strangle": [("P", spot - otm, -1), ("C", spot + otm, -1)],
            "iron_condor": [
                ("P", spot - otm, -1),
                ("P", spot - otm - width, 1),
                ("C", spot + otm, -1),
                ("C", spot + otm + width, 1),
            ],
        }[strategy]
        for option_type, strike, sign in legs:
            strike = max(1.0, round(strike))
            while (underlying, expiration, option_type, strike) in used:
                strike += 1.0  # the same contract drawn twice: take the next strike
            used.add((underlying, expiration, option_type, strike))
            specs.append(
                {**base, "option_type": option_type, "strike": strike, "quantity": sign * contracts}
            )

    options = [i for i, spec in enumerate(specs) if spec["option_type"]]
    years = np.array([(specs[i]["expiration"] - today).days / DAYS_PER_YEAR for i in options])
    price, delta, gamma, theta, vega = floor_kernel(
        np.array([specs[i]["spot"] for i in options]),
        np.array([specs[i]["strike"] for i in options], dtype=float),
        years,
        np.array([specs[i]["dividend"] for i in options]),
        np.array([specs[i]["sigma"] for i in options]),
        np.array([specs[i]["option_type"] == "C" for i in options]),
        RATE,
    )
    # rho per rate point, as the European kernel gives it: T (S delta - V) / 100
    rho = years * (np.array([specs[i]["spot"] for i in options]) * delta - price) / 100.0
    priced = {
        leg: (price[j], delta[j], gamma[j], theta[j], vega[j], rho[j])
        for j, leg in enumerate(options)
    }

    rows: list[dict] = []
    for i, spec in enumerate(specs):
        quantity = spec["quantity"]
        if spec["option_type"] is None:
            symbol = spec["underlying"]
            multiplier, mark = 1, spec["spot"]
            greeks = (mark, 1.0, 0.0, 0.0, 0.0, 0.0)
        else:
            symbol = occ_symbol(
                spec["underlying"], spec["expiration"], spec["option_type"], spec["strike"]
            )
            multiplier = 100
            greeks = priced[i]
            mark = max(0.01, round(float(greeks[0]), 2))
        units = quantity * multiplier
        open_price = mark * (1.1 if quantity < 0 else 0.9)
        rows.append(
            {
                "symbol": symbol,
                "underlying_symbol": spec["underlying"],
                "instrument_type": "Equity Option" if spec["option_type"] else "Equity",
                "option_type": spec["option_type"],
                "strategy_type": spec["strategy"],
                "strategy_group_id": spec["group"],
                "quantity": Decimal(quantity),
                "multiplier": multiplier,
                "open_date": today - dt.timedelta(days=10),
                "expiration_date": spec["expiration"] if spec["option_type"] else None,
                "settlement_type": "PM",
                "strike_price": None if spec["strike"] is None else _price(spec["strike"]),
                "average_open_price": _price(open_price),
                "premium_received": _money(-open_price * units),
                "current_value": _money(mark * units),
                "mark": _price(mark),
                "underlying_price": _price(spec["spot"]),
                "implied_volatility": spec["sigma"] if spec["option_type"] else None,
                "iv_status": "solved" if spec["option_type"] else "not_applicable",
                "delta": float(greeks[1]) * units,
                "gamma": float(greeks[2]) * units,
                "theta": float(greeks[3]) * units,
                "vega": float(greeks[4]) * units,
                "rho": float(greeks[5]) * units,
                # European, so rows 2-8 keep measuring what they always did; the
                # American model's cost is row 1d's.
                "exercise_style": "European" if spec["option_type"] else "",
                "iv_rank": 0.35,
                "iv_percentile": 0.6,
                "greeks_source": "implied" if spec["option_type"] else "linear",
                "beta": spec["beta"],
                "dividend_yield": spec["dividend"],
                "opening_order_id": "",
            }
        )
    return rows


# Writers (inside rls.as_service()) -----------------------------------------------


def make_users(prefix: str, count: int) -> list[str]:
    """Create `count` traders; return their clerk ids."""
    from thetavue_site.users.models import User

    users = []
    for index in range(count):
        user = User(clerk_id=f"user_{prefix}{index:05d}", email=f"{prefix}{index}@bench.invalid")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    return [user.clerk_id for user in users]


def make_portfolio(*, user_id: str, name: str, account_id: str | None = None, **fields):
    from portfolios.models import Portfolio

    fields.setdefault("net_liquidation_value", Decimal("250000.00"))
    fields.setdefault("cash_balance", Decimal("150000.00"))
    fields.setdefault("spy_price", SPY_PRICE)
    return Portfolio.objects.create(
        user_id=user_id,
        name=name,
        account_type="margin" if account_id else "manual",
        broker_account_id=account_id,
        **fields,
    )


def insert_legs(*, portfolio_id: int, legs: list[dict]) -> None:
    from portfolios.models import Position

    Position.objects.bulk_create([Position(portfolio_id=portfolio_id, **leg) for leg in legs])


SEEDED_TABLES = ("users", "portfolios", "positions", "broker_connections")


def analyze() -> None:
    """Refresh the seeded tables' planner statistics (autovacuum may not have yet)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(SEEDED_TABLES)}")


# Credentials ------------------------------------------------------------------------


@functools.cache
def _signing_key(private_pem: bytes):
    # Parsing (and checking) an RSA private key costs ~40 ms: once per run.
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(private_pem, password=None)


def session_token(private_pem: bytes, user_id: str, lifetime_seconds: int = 3600) -> str:
    """Return a Clerk-shaped session JWT (RS256, sub + sid) for the bench's PEM key."""
    import time

    now = int(time.time())
    claims = {
        "iss": CLERK_ISSUER,
        "sub": user_id,
        "sid": f"sess_bench_{secrets.token_hex(6)}",
        "iat": now,
        "nbf": now - 10,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(
        claims, _signing_key(private_pem), algorithm="RS256", headers={"kid": "bench"}
    )
