"""Tastytrade symbology: OCC equity-option, futures and futures-option symbols.

Pure functions over strings; no I/O. See tastytrade-api.md §4. It sits on the
domain side so portfolios and brokers both read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

OCC_ROOT_WIDTH = 6
OCC_STRIKE_SCALE = 1000
OCC_STRIKE_DIGITS = 8
OPTION_TYPES = ("C", "P")

# Futures month codes, January to December.
FUTURES_MONTH_CODES = "FGHJKMNQUVXZ"

# Padding collapsed or not: "AAPL  260116P00172500" and "AAPL 260116P00172500".
# A root may hold a class slash, as the broker writes "BRK/B  260116C00500000".
_OCC_RE = re.compile(r"^([A-Z0-9/]{1,6}) *(\d{6})([CP])(\d{8})$")
# The product is matched lazily so "/ZNZ5" yields ZN/Z/5, never Z/N/Z5.
_FUTURE_BODY = r"([A-Z0-9]{1,4}?)([FGHJKMNQUVXZ])(\d{1,2})"
_FUTURE_RE = re.compile(rf"^/{_FUTURE_BODY}$")
# Real symbols pad to fixed columns, so the spaces vary with the code lengths:
# "./ESZ4 EW3U4 240920P5650", "./MESU5EX3M5 250620C6450" (a six-character
# future leaves no room), "./MNQZ6MN5CU6260930P30675" (none at all), and two
# spaces after a short option code. The year digits before the YYMMDD are
# unambiguous: the strike must follow six digits and a C/P.
_FUTURE_OPTION_RE = re.compile(
    rf"^\./({_FUTURE_BODY}) *{_FUTURE_BODY} *(\d{{6}})([CP])(\d+(?:\.\d+)?)$"
)


@dataclass(frozen=True)
class OptionSymbol:
    """An equity or index option; the root is not always the underlying (SPXW)."""

    root: str
    expiration: date
    option_type: str  # "C" or "P"
    strike: Decimal  # per share, in the underlying's currency

    @property
    def occ(self) -> str:
        """Return the 21-character OCC symbol, root padded to 6."""
        return build_occ(self.root, self.expiration, self.option_type, self.strike)

    @property
    def streamer_symbol(self) -> str:
        """Return the DXLink form, e.g. ``.AAPL260116P172.5``."""
        return (
            f".{self.root}{self.expiration:%y%m%d}{self.option_type}{_plain_decimal(self.strike)}"
        )

    def __str__(self) -> str:
        return self.occ


@dataclass(frozen=True)
class FutureSymbol:
    """A futures contract such as ``/ESZ5`` (product ES, December, year digit 5)."""

    product: str
    month_code: str
    year_digits: str  # as written: one digit ("5") or two ("25")

    @property
    def month(self) -> int:
        """Return the contract month, 1-12."""
        return FUTURES_MONTH_CODES.index(self.month_code) + 1

    @property
    def symbol(self) -> str:
        return f"/{self.product}{self.month_code}{self.year_digits}"

    def year(self, reference: date) -> int:
        """Return the four-digit year nearest to ``reference`` matching the digits."""
        return _expand_year(self.year_digits, reference)

    def __str__(self) -> str:
        return self.symbol


@dataclass(frozen=True)
class FutureOptionSymbol:
    """A futures option such as ``./ESZ4 EW3U4 240920P5650``."""

    future: FutureSymbol  # the underlying contract
    option_product: str  # e.g. "EW3"
    option_month_code: str
    option_year_digits: str
    expiration: date
    option_type: str  # "C" or "P"
    strike: Decimal  # in the future's price points

    @property
    def symbol(self) -> str:
        return (
            f"./{self.future.symbol[1:]} {self.option_product}"
            f"{self.option_month_code}{self.option_year_digits} "
            f"{self.expiration:%y%m%d}{self.option_type}{_plain_decimal(self.strike)}"
        )

    def __str__(self) -> str:
        return self.symbol


def parse_occ(symbol: str) -> OptionSymbol:
    """Parse an OCC option symbol, padded to 21 characters or collapsed."""
    if not isinstance(symbol, str):
        raise ValueError(f"OCC symbol must be a string, got {type(symbol).__name__}")
    # On a 21-character symbol the pattern itself pins the root field to the
    # first 6 characters (15 follow it), so one pattern covers both forms.
    match = _OCC_RE.match(symbol)
    if match is None:
        raise ValueError(
            f"not an OCC option symbol: {symbol!r} (expected root, YYMMDD, C/P and "
            "an 8-digit strike x 1000, e.g. 'AAPL  260116P00172500')"
        )
    root, yymmdd, option_type, strike_digits = match.groups()
    return OptionSymbol(
        root=root,
        expiration=_parse_yymmdd(yymmdd, symbol),
        option_type=option_type,
        strike=Decimal(int(strike_digits)) / OCC_STRIKE_SCALE,
    )


def build_occ(root: str, expiration: date, option_type: str, strike: Decimal) -> str:
    """Build the 21-character OCC symbol; the strike is per share."""
    if not re.fullmatch(r"[A-Z0-9/]{1,6}", root or ""):
        raise ValueError(f"OCC root must be 1-6 characters A-Z, 0-9 or /, got {root!r}")
    if option_type not in OPTION_TYPES:
        raise ValueError(f"option type must be 'C' or 'P', got {option_type!r}")
    strike = _as_decimal(strike, "strike")
    scaled = strike * OCC_STRIKE_SCALE
    if strike <= 0 or scaled != scaled.to_integral_value():
        raise ValueError(f"strike must be positive with at most 3 decimals: {strike}")
    digits = f"{int(scaled):0{OCC_STRIKE_DIGITS}d}"
    if len(digits) > OCC_STRIKE_DIGITS:
        raise ValueError(f"strike too large for the OCC format: {strike}")
    return f"{root:<{OCC_ROOT_WIDTH}}{expiration:%y%m%d}{option_type}{digits}"


def parse_future(symbol: str) -> FutureSymbol:
    """Parse a futures contract symbol such as ``/ESZ5`` or ``/ESZ25``."""
    match = _FUTURE_RE.match(symbol) if isinstance(symbol, str) else None
    if match is None:
        raise ValueError(
            f"not a futures symbol: {symbol!r} (expected '/' + product + month code "
            f"[{FUTURES_MONTH_CODES}] + year digit, e.g. '/ESZ5')"
        )
    product, month_code, year_digits = match.groups()
    return FutureSymbol(product=product, month_code=month_code, year_digits=year_digits)


def build_future(product: str, month: int, year: int) -> str:
    """Build a futures symbol with a one-digit year, e.g. ``/ESZ5``."""
    if not re.fullmatch(r"[A-Z0-9]{1,4}", product or ""):
        raise ValueError(f"futures product must be 1-4 characters A-Z/0-9: {product!r}")
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    return f"/{product}{FUTURES_MONTH_CODES[month - 1]}{year % 10}"


def parse_future_option(symbol: str) -> FutureOptionSymbol:
    """Parse a futures option symbol such as ``./ESZ4 EW3U4 240920P5650``."""
    match = _FUTURE_OPTION_RE.match(symbol) if isinstance(symbol, str) else None
    if match is None:
        raise ValueError(
            f"not a futures option symbol: {symbol!r} (expected './' + future, option "
            "product + month + year, YYMMDD, C/P and strike, e.g. "
            "'./ESZ4 EW3U4 240920P5650')"
        )
    (
        future_text,
        _product,
        _month,
        _year,
        option_product,
        option_month,
        option_year,
        yymmdd,
        option_type,
        strike,
    ) = match.groups()
    return FutureOptionSymbol(
        future=parse_future("/" + future_text),
        option_product=option_product,
        option_month_code=option_month,
        option_year_digits=option_year,
        expiration=_parse_yymmdd(yymmdd, symbol),
        option_type=option_type,
        strike=Decimal(strike),
    )


def build_future_option(
    future: str,
    option_product: str,
    expiration: date,
    option_type: str,
    strike: Decimal,
    *,
    option_month: int | None = None,
) -> str:
    """Build a futures option symbol; the option month defaults to the expiry's."""
    parsed_future = parse_future(future)
    if option_type not in OPTION_TYPES:
        raise ValueError(f"option type must be 'C' or 'P', got {option_type!r}")
    strike = _as_decimal(strike, "strike")
    if strike <= 0:
        raise ValueError(f"strike must be positive: {strike}")
    option_code = build_future(option_product, option_month or expiration.month, expiration.year)[
        1:
    ]
    return (
        f"./{parsed_future.symbol[1:]} {option_code} "
        f"{expiration:%y%m%d}{option_type}{_plain_decimal(strike)}"
    )


def _parse_yymmdd(yymmdd: str, symbol: str) -> date:
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise ValueError(f"invalid expiration {yymmdd!r} in {symbol!r}") from None


def _expand_year(digits: str, reference: date) -> int:
    modulus = 10 ** len(digits)
    value = int(digits)
    base = reference.year - reference.year % modulus
    candidates = (base - modulus + value, base + value, base + modulus + value)
    return min(candidates, key=lambda year: abs(year - reference.year))


def _plain_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _as_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise ValueError(f"{name} must be a Decimal, int or str, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
