"""The instrument vocabulary every reader of the book shares (pure: no Django).

Instrument types as the broker names them, the sets pricing, detection and
buying power sort legs into, what makes a leg "priced", and which margin rules
an account type is held to. Models, the adapter (portfolios.book), pricing,
detection and the buying-power rules import these names instead of spelling
their own.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

EQUITY = "Equity"
EQUITY_OPTION = "Equity Option"
FUTURE = "Future"
FUTURE_OPTION = "Future Option"
CRYPTOCURRENCY = "Cryptocurrency"

OPTION_INSTRUMENTS = frozenset({EQUITY_OPTION, FUTURE_OPTION})
# Legs priced as delta 1 per unit, and the deliverables a covered call can sit on.
LINEAR_INSTRUMENTS = frozenset({EQUITY, FUTURE, CRYPTOCURRENCY})
UNDERLYING_INSTRUMENTS = frozenset({EQUITY, FUTURE})
# SPAN, not Reg-T, margins these: the rules here give only a flagged estimate.
FUTURES_INSTRUMENTS = frozenset({FUTURE, FUTURE_OPTION})
REG_T_INSTRUMENTS = frozenset({EQUITY, EQUITY_OPTION})

# The stored greeks a leg needs to count in the totals. One rule for every
# reader: a leg with a delta but no theta would otherwise count in one total
# and not in another.
PRICED_GREEKS = ("delta", "gamma", "theta", "vega")


def option_expired(
    instrument_type: str | None, expiration: dt.date | None, *, today: dt.date
) -> bool:
    """Return whether a leg is an option past its expiry date (``today`` in New York).

    The broker keeps listing such a leg until it settles it, a day or two
    after expiry; it carries no risk by then, so it stays out of every risk
    figure (greek totals, buying power, plan compliance) while the pages still
    show it, badged. The nightly snapshot's SQL (metrics.snapshot) spells the
    same rule.
    """
    return instrument_type in OPTION_INSTRUMENTS and expiration is not None and expiration < today


class GreeksSource(StrEnum):
    IMPLIED = "implied"
    MARKET_IV = "market_iv"
    INTRINSIC = "intrinsic"
    LINEAR = "linear"
    NONE = "none"


class AccountType(StrEnum):
    MARGIN = "margin"
    CASH = "cash"
    IRA = "ira"
    PORTFOLIO_MARGIN = "portfolio_margin"
    MANUAL = "manual"


class MarginRule(StrEnum):
    """Which rules hold an account's buying power."""

    REG_T_MARGIN = "reg_t_margin"
    REG_T_CASH = "reg_t_cash"  # short puts cash-secured, no naked calls
    BROKER_ONLY = "broker_only"  # portfolio margin: risk-based, only the broker knows


# An IRA is a cash account for option requirements; a manual book is taken as
# a margin account (most traders' books are).
MARGIN_RULES = {
    AccountType.MARGIN: MarginRule.REG_T_MARGIN,
    AccountType.CASH: MarginRule.REG_T_CASH,
    AccountType.IRA: MarginRule.REG_T_CASH,
    AccountType.MANUAL: MarginRule.REG_T_MARGIN,
    AccountType.PORTFOLIO_MARGIN: MarginRule.BROKER_ONLY,
}
CASH_ACCOUNT_TYPES = frozenset(
    account for account, rule in MARGIN_RULES.items() if rule == MarginRule.REG_T_CASH
)


def margin_rule(account_type: str) -> MarginRule:
    """Return the margin rules of an account type; an unknown type gets the broker's."""
    try:
        return MARGIN_RULES[AccountType(account_type)]
    except ValueError:
        return MarginRule.BROKER_ONLY
