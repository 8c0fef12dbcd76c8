"""A manual leg's contract, read from a broker symbol or from its parts.

Symbols are parsed with portfolios.symbols (pure functions, the same
the sync uses): OCC equity options ("AAPL  260116P00172500", padded or not),
futures ("/ESZ5"), futures options ("./ESZ4 EW3U4 240920P5650") and tickers.
Strikes are per share in the underlying's price units.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from portfolios import symbols
from portfolios.instruments import OPTION_INSTRUMENTS
from portfolios.models import InstrumentType

# Tickers as brokers write them: "SPY", "BRK/B", "BF.B".
TICKER_RE = re.compile(r"^[A-Z][A-Z0-9./-]{0,11}$")


def leg_identity(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return symbol, underlying_symbol, instrument_type and the option fields of a leg.

    `data` holds shape-checked input: either `symbol` (any of the parts given
    too must agree with it) or the parts. Raises ValidationError naming each
    bad field.
    """
    symbol = (data.get("symbol") or "").strip().upper()
    if symbol:
        return _identity_from_symbol(symbol, data)
    return _identity_from_parts(data)


def _identity_from_symbol(symbol: str, data: Mapping[str, Any]) -> dict[str, Any]:
    identity = _parse_symbol(symbol)
    errors: dict[str, str] = {}
    instrument_type = data.get("instrument_type")
    if instrument_type and instrument_type != identity["instrument_type"]:
        errors["instrument_type"] = (
            f"Does not match the symbol, which is a {identity['instrument_type']}."
        )
    for key in ("expiration_date", "option_type", "strike_price"):
        given = data.get(key)
        if given is None:
            continue
        if identity[key] is None:
            errors[key] = f"A {identity['instrument_type']} has no {key}."
        elif given != identity[key]:
            errors[key] = f"Does not match the symbol ({identity[key]})."
    underlying = (data.get("underlying_symbol") or "").strip().upper()
    if underlying:
        if identity["instrument_type"] in OPTION_INSTRUMENTS:
            # An option root is not always its underlying (SPXW options on SPX).
            if not TICKER_RE.match(underlying):
                errors["underlying_symbol"] = "Not a ticker (e.g. SPY, BRK/B)."
            else:
                identity["underlying_symbol"] = underlying
        elif underlying != identity["underlying_symbol"]:
            errors["underlying_symbol"] = f"Does not match the symbol ({symbol})."
    if errors:
        raise ValidationError(errors)
    return identity


def _parse_symbol(symbol: str) -> dict[str, Any]:
    """Read an OCC option, futures option, future or stock symbol."""
    try:
        if symbol.startswith("./"):
            future_option = symbols.parse_future_option(symbol)
            return {
                "symbol": future_option.symbol,
                "underlying_symbol": future_option.future.symbol,
                "instrument_type": InstrumentType.FUTURE_OPTION,
                "expiration_date": future_option.expiration,
                "option_type": future_option.option_type,
                "strike_price": future_option.strike,
            }
        if symbol.startswith("/"):
            future = symbols.parse_future(symbol)
            return {
                "symbol": future.symbol,
                "underlying_symbol": future.symbol,
                "instrument_type": InstrumentType.FUTURE,
                "expiration_date": None,
                "option_type": None,
                "strike_price": None,
            }
        # Tickers are at most 12 characters without spaces; anything longer is
        # read as an OCC symbol so its own error message explains what is wrong.
        if len(symbol) > 12 or " " in symbol:
            return _option_identity(symbols.parse_occ(symbol))
    except ValueError as error:
        raise ValidationError({"symbol": str(error)}) from None
    if not TICKER_RE.match(symbol):
        raise ValidationError(
            {
                "symbol": (
                    "Not a symbol: give an OCC option symbol ('AAPL  260116P00172500'), a "
                    "ticker ('SPY'), a future ('/ESZ5') or a futures option, or leave it "
                    "out and give underlying_symbol, expiration_date, option_type and "
                    "strike_price."
                )
            }
        )
    return {
        "symbol": symbol,
        "underlying_symbol": symbol,
        "instrument_type": InstrumentType.EQUITY,
        "expiration_date": None,
        "option_type": None,
        "strike_price": None,
    }


def _option_identity(option) -> dict[str, Any]:
    return {
        "symbol": option.occ,
        "underlying_symbol": option.root,
        "instrument_type": InstrumentType.EQUITY_OPTION,
        "expiration_date": option.expiration,
        "option_type": option.option_type,
        "strike_price": option.strike,
    }


def _identity_from_parts(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    underlying = (data.get("underlying_symbol") or "").strip().upper()
    parts = {key: data.get(key) for key in ("expiration_date", "option_type", "strike_price")}
    instrument_type = data.get("instrument_type") or (
        InstrumentType.EQUITY_OPTION
        if any(value is not None for value in parts.values())
        else InstrumentType.EQUITY
    )
    if instrument_type in (InstrumentType.FUTURE, InstrumentType.FUTURE_OPTION):
        raise ValidationError(
            {"symbol": "Required for futures and futures options (e.g. '/ESZ5')."}
        )
    if not underlying:
        raise ValidationError(
            {
                "symbol": "Give the symbol, or leave it out and give the leg's parts.",
                "underlying_symbol": "Required when symbol is not given.",
            }
        )
    if not TICKER_RE.match(underlying):
        errors["underlying_symbol"] = "Not a ticker (e.g. SPY, BRK/B)."
    if instrument_type == InstrumentType.EQUITY:
        for key, value in parts.items():
            if value is not None:
                errors[key] = "Only options have this field; a stock leg has none."
        if errors:
            raise ValidationError(errors)
        return {
            "symbol": underlying,
            "underlying_symbol": underlying,
            "instrument_type": InstrumentType.EQUITY,
            **dict.fromkeys(parts),
        }
    for key, value in parts.items():
        if value is None:
            errors[key] = "Required for an option (or give its OCC symbol)."
    if errors:
        raise ValidationError(errors)
    try:
        occ = symbols.build_occ(
            underlying, parts["expiration_date"], parts["option_type"], parts["strike_price"]
        )
    except ValueError as error:
        field = "strike_price" if "strike" in str(error) else "underlying_symbol"
        raise ValidationError({field: str(error)}) from None
    return {
        "symbol": occ,
        "underlying_symbol": underlying,
        "instrument_type": InstrumentType.EQUITY_OPTION,
        **parts,
    }
