"""The sandbox's instruments: underlyings with their volatility surfaces, futures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Underlying:
    """A stock, ETF or index; figures are plausible, not market data."""

    symbol: str
    instrument_type: str  # "Equity" or "Index"
    description: str
    base_price: float  # price at tick 0
    volatility: float  # annual, drives the random walk
    beta: float  # against SPY
    dividend_yield: float  # annual, continuous, fraction
    iv_atm: float  # 30-day at-the-money implied volatility, fraction
    skew: float  # relative IV change per standard deviation of moneyness (puts up)
    smile: float  # relative IV change per squared standard deviation
    term: float  # ATM IV change per unit of ln(T / 30 days)
    strike_step: float  # listed strike increment near the money
    tracks: tuple[str, float] | None = None  # (index, ratio): SPY ~ SPX / 10
    roots: tuple[str, ...] = ()  # option roots when they differ from the symbol

    @property
    def option_roots(self) -> tuple[str, ...]:
        return self.roots or (self.symbol,)


# symbol type price vol beta dividend iv_atm skew smile term step description
_TABLE = """
SPX  Index  5620.0 0.15 1.00 0.0130 0.162 0.12 0.02 0.012 5.0 S&P 500 Index
SPY  Equity  562.0 0.15 1.00 0.0125 0.160 0.12 0.02 0.012 1.0 SPDR S&P 500 ETF
QQQ  Equity  480.0 0.19 1.12 0.0060 0.198 0.10 0.02 0.010 1.0 Invesco QQQ Trust
IWM  Equity  215.0 0.21 1.15 0.0120 0.221 0.09 0.02 0.008 1.0 iShares Russell 2000 ETF
VTI  Equity  276.0 0.15 1.00 0.0130 0.158 0.11 0.02 0.010 1.0 Vanguard Total Stock Market
AAPL Equity  228.0 0.24 1.20 0.0045 0.265 0.07 0.03 0.006 2.5 Apple Inc.
MSFT Equity  425.0 0.22 0.95 0.0075 0.245 0.07 0.03 0.006 5.0 Microsoft Corporation
AMZN Equity  186.0 0.30 1.25 0.0000 0.318 0.06 0.03 0.005 2.5 Amazon.com, Inc.
NVDA Equity  128.0 0.50 1.85 0.0003 0.515 0.05 0.04 0.004 1.0 NVIDIA Corporation
TSLA Equity  245.0 0.55 2.05 0.0000 0.580 0.03 0.04 0.004 2.5 Tesla, Inc.
AMD  Equity  158.0 0.45 1.65 0.0000 0.478 0.05 0.04 0.004 2.5 Advanced Micro Devices, Inc.
JPM  Equity  212.0 0.20 1.08 0.0220 0.218 0.08 0.03 0.006 2.5 JPMorgan Chase & Co.
KO   Equity   68.5 0.14 0.58 0.0290 0.158 0.08 0.03 0.006 1.0 The Coca-Cola Company
XLE  Equity   92.0 0.22 0.85 0.0320 0.238 0.08 0.03 0.006 1.0 Energy Select Sector SPDR
DJI  Index  44000.0 0.14 0.90 0.0180 0.150 0.10 0.02 0.010 100.0 Dow Jones Industrial Average
BTC/USD Cryptocurrency 97000.0 0.55 1.80 0.0 0.550 0.02 0.04 0.004 1000.0 Bitcoin
"""
# SPY follows the index (one tenth of it); SPX lists AM monthlies and SPXW.
_EXTRAS: dict[str, dict] = {
    "SPY": {"tracks": ("SPX", 0.1)},
    "SPX": {"roots": ("SPX", "SPXW")},
}


def _parse_table(table: str) -> dict[str, Underlying]:
    underlyings = {}
    for line in table.strip().splitlines():
        symbol, kind, *numbers = line.split(maxsplit=11)
        *figures, description = numbers
        price, vol, beta, dividend, iv, skew, smile, term, step = map(float, figures)
        underlyings[symbol] = Underlying(
            symbol=symbol,
            instrument_type=kind,
            description=description,
            base_price=price,
            volatility=vol,
            beta=beta,
            dividend_yield=dividend,
            iv_atm=iv,
            skew=skew,
            smile=smile,
            term=term,
            strike_step=step,
            **_EXTRAS.get(symbol, {}),
        )
    return underlyings


UNDERLYINGS = _parse_table(_TABLE)

# Option root -> underlying symbol, where they differ.
ROOT_UNDERLYINGS = {"SPXW": "SPX"}


@dataclass(frozen=True)
class FutureProduct:
    """A CME equity-index future priced off its index with cost of carry."""

    code: str  # "ES"
    description: str
    index: str  # the underlying index symbol
    multiplier: Decimal  # $ per point: 0.5 for /MYM, 0.1 for /MBT
    tick_size: float  # points
    option_product: str  # weekly option product for third-Friday expiries
    option_multiplier: Decimal
    # How the exchange lists ``option_product`` (its instrument data's
    # exercise-style). CME Group contract specs: the weekly options on the
    # E-mini and Micro E-mini S&P 500 futures (EW1-EW4, EX1-EX4) and on Micro
    # Bitcoin are European; the standard options on the Dow futures American.
    option_exercise_style: str = "American"


FUTURES: dict[str, FutureProduct] = {
    "ES": FutureProduct(
        "ES", "E-Mini S&P 500", "SPX", Decimal(50), 0.25, "EW3", Decimal(50), "European"
    ),
    "MES": FutureProduct(
        "MES", "Micro E-Mini S&P 500", "SPX", Decimal(5), 0.25, "EX3", Decimal(5), "European"
    ),
    "MYM": FutureProduct(
        "MYM", "Micro E-Mini Dow", "DJI", Decimal("0.5"), 1.0, "OYM", Decimal("0.5")
    ),
    "MBT": FutureProduct(
        "MBT", "Micro Bitcoin", "BTC/USD", Decimal("0.1"), 5.0, "WMB", Decimal("0.1"), "European"
    ),
}


def underlying_for_root(root: str) -> Underlying | None:
    return UNDERLYINGS.get(ROOT_UNDERLYINGS.get(root, root))
