"""Buying-power reduction of a strategy group under Reg-T rules, in Decimal $.

Margin and cash accounts, equity options and stock only (futures are margined
by SPAN, not Reg-T). "Premium" is an option's current price per share times
its multiplier and contracts:

- naked short put: max(20% of the underlying - OTM amount + premium,
  10% of the strike + premium, $2.50 per share) per share, x multiplier x contracts;
- naked short call: the same with 10% of the underlying in the second term;
- short strangle / straddle: the larger side's requirement + the other side's premium;
- credit vertical: width x multiplier x contracts - net credit; debit vertical:
  the net debit; iron condor / butterfly: the wider side's width, less the net credit;
- cash-secured put: strike x multiplier x contracts - premium (a short put in a
  cash account, or any group detected as one);
- long options: premium paid;
- stock: 50% of its value in a margin account, 100% in a cash account; a covered
  call (or collar) adds the stock's requirement, less the call premium, plus any
  long put paid.

Shapes the rules do not cover raise ``UnsupportedGroupError``: the caller shows
the broker's figure or "unknown" rather than a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
NAKED_UNDERLYING_RATE = Decimal("0.20")
NAKED_MINIMUM_RATE = Decimal("0.10")
NAKED_FLOOR_PER_SHARE = Decimal("2.50")
STOCK_MARGIN_RATE = Decimal("0.50")
NET_LIQ_TOLERANCE = Decimal("0.005")  # 0.5 %

MARGIN = "margin"
CASH = "cash"
CASH_SECURED_PUT = "cash_secured_put"


class UnsupportedGroupError(ValueError):
    """The group's shape is not one the Reg-T rules here cover."""


@dataclass(frozen=True, slots=True)
class BuyingPowerLeg:
    """One leg of a strategy group; money in $ per share, quantity signed."""

    instrument_type: str  # "Equity" or "Equity Option"
    quantity: Decimal  # contracts or shares; short < 0
    multiplier: Decimal  # 100 for standard equity options, 1 for stock
    price: Decimal  # current price per share of this leg (option mark or stock price)
    underlying_price: Decimal  # per share
    option_type: str = ""  # "C" or "P" for options
    strike: Decimal | None = None
    expiration: dt.date | None = None

    @property
    def is_option(self) -> bool:
        return self.instrument_type == "Equity Option"

    @property
    def contracts(self) -> Decimal:
        return abs(self.quantity)

    @property
    def premium(self) -> Decimal:
        """Return the leg's current value in $, unsigned."""
        return self.price * self.multiplier * self.contracts


def group_buying_power(
    legs: Sequence[BuyingPowerLeg],
    *,
    account_type: str,
    strategy_type: str | None = None,
) -> Decimal:
    """Return the group's buying-power reduction in $ (>= 0, to the cent).

    ``account_type`` is "margin" or "cash" (IRAs are cash for this purpose);
    ``strategy_type`` is the detected strategy, used to tell a cash-secured put.
    """
    if account_type not in (MARGIN, CASH):
        raise ValueError(f"account_type must be {MARGIN!r} or {CASH!r}")
    if not legs:
        return Decimal(0).quantize(CENT)
    if any(leg.instrument_type not in ("Equity", "Equity Option") for leg in legs):
        raise UnsupportedGroupError("only stock and equity options follow Reg-T")
    if any(leg.quantity == 0 for leg in legs):
        legs = [leg for leg in legs if leg.quantity != 0]
    stock = [leg for leg in legs if not leg.is_option]
    options = [leg for leg in legs if leg.is_option]
    for leg in options:
        if leg.option_type not in ("C", "P") or leg.strike is None:
            raise UnsupportedGroupError("an option leg needs an option type and strike")

    if stock:
        requirement = _stock_and_covered(stock, options, account_type)
    else:
        requirement = _options_only(options, account_type, strategy_type)
    return max(requirement, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def reconcile_net_liq(ours: Decimal, broker: Decimal) -> tuple[Decimal, bool]:
    """Return (ours - broker) / |broker| and whether it exceeds 0.5 %.

    A zero broker figure gives 0 when ours is zero too, else an infinite,
    flagged difference.
    """
    if broker == 0:
        if ours == 0:
            return Decimal(0), False
        return Decimal("Infinity") if ours > 0 else Decimal("-Infinity"), True
    difference = (ours - broker) / abs(broker)
    return difference, abs(difference) > NET_LIQ_TOLERANCE


def naked_put_requirement(leg: BuyingPowerLeg) -> Decimal:
    """Return the Reg-T requirement of a naked short put, in $."""
    out_of_the_money = max(leg.underlying_price - leg.strike, Decimal(0))
    per_share = max(
        NAKED_UNDERLYING_RATE * leg.underlying_price - out_of_the_money + leg.price,
        NAKED_MINIMUM_RATE * leg.strike + leg.price,
        NAKED_FLOOR_PER_SHARE,
    )
    return per_share * leg.multiplier * leg.contracts


def naked_call_requirement(leg: BuyingPowerLeg) -> Decimal:
    """Return the Reg-T requirement of a naked short call, in $."""
    out_of_the_money = max(leg.strike - leg.underlying_price, Decimal(0))
    per_share = max(
        NAKED_UNDERLYING_RATE * leg.underlying_price - out_of_the_money + leg.price,
        NAKED_MINIMUM_RATE * leg.underlying_price + leg.price,
        NAKED_FLOOR_PER_SHARE,
    )
    return per_share * leg.multiplier * leg.contracts


def _options_only(options, account_type, strategy_type) -> Decimal:
    shorts = [leg for leg in options if leg.quantity < 0]
    longs = [leg for leg in options if leg.quantity > 0]
    if not shorts:
        return sum((leg.premium for leg in longs), Decimal(0))

    if len(options) == 1:
        (leg,) = options
        if leg.option_type == "P":
            if account_type == CASH or strategy_type == CASH_SECURED_PUT:
                return leg.strike * leg.multiplier * leg.contracts - leg.premium
            return naked_put_requirement(leg)
        if account_type == CASH:
            raise UnsupportedGroupError("a naked call is not allowed in a cash account")
        return naked_call_requirement(leg)

    _require_equal_size(options)
    if len(options) == 2 and len(shorts) == 2:
        put, call = _by_type(shorts, "P"), _by_type(shorts, "C")
        if put is None or call is None or account_type == CASH:
            raise UnsupportedGroupError("two short options: only a margin strangle")
        put_side, call_side = naked_put_requirement(put), naked_call_requirement(call)
        if put_side >= call_side:
            return put_side + call.premium
        return call_side + put.premium

    _require_same_expiry(options)
    if len(options) == 2 and len(shorts) == 1:
        (short,), (long,) = shorts, longs
        if short.option_type != long.option_type:
            raise UnsupportedGroupError("a vertical needs two calls or two puts")
        return _vertical(short, long)

    if len(options) == 4 and len(shorts) == 2:
        short_put, long_put = _by_type(shorts, "P"), _by_type(longs, "P")
        short_call, long_call = _by_type(shorts, "C"), _by_type(longs, "C")
        if None in (short_put, long_put, short_call, long_call):
            raise UnsupportedGroupError("an iron condor needs a put and a call spread")
        if not (long_put.strike < short_put.strike <= short_call.strike < long_call.strike):
            raise UnsupportedGroupError("an iron condor's wings must be outside its shorts")
        width = max(short_put.strike - long_put.strike, long_call.strike - short_call.strike)
        return width * short_put.multiplier * short_put.contracts - _net_credit(options)

    raise UnsupportedGroupError("no Reg-T rule here for this combination of options")


def _vertical(short: BuyingPowerLeg, long: BuyingPowerLeg) -> Decimal:
    """Return a vertical's requirement: width less credit, or the debit paid."""
    if short.option_type == "C":
        is_credit = short.strike < long.strike
    else:
        is_credit = short.strike > long.strike
    net_credit = _net_credit([short, long])
    if not is_credit:
        return -net_credit
    width = abs(short.strike - long.strike)
    return width * short.multiplier * short.contracts - net_credit


def _stock_and_covered(stock, options, account_type) -> Decimal:
    """Return stock's requirement plus a covered call and protective put, if any."""
    shares = sum((leg.quantity * leg.multiplier for leg in stock), Decimal(0))
    if shares < 0 and account_type == CASH:
        raise UnsupportedGroupError("short stock is not allowed in a cash account")
    rate = Decimal(1) if account_type == CASH else STOCK_MARGIN_RATE
    requirement = sum((abs(leg.quantity) * leg.multiplier * leg.price for leg in stock), Decimal(0))
    requirement *= rate
    if not options:
        return requirement
    calls = [leg for leg in options if leg.option_type == "C"]
    puts = [leg for leg in options if leg.option_type == "P"]
    short_calls = [leg for leg in calls if leg.quantity < 0]
    covered_shares = sum((leg.multiplier * leg.contracts for leg in short_calls), Decimal(0))
    if (
        shares <= 0
        or len(short_calls) != len(calls)
        or any(leg.quantity < 0 for leg in puts)
        or covered_shares > shares
    ):
        raise UnsupportedGroupError("stock with options: only covered calls and long puts")
    return (
        requirement
        - sum((leg.premium for leg in short_calls), Decimal(0))
        + sum((leg.premium for leg in puts), Decimal(0))
    )


def _net_credit(options: Sequence[BuyingPowerLeg]) -> Decimal:
    """Return premium received minus premium paid at current prices, in $."""
    return sum((-leg.quantity / leg.contracts * leg.premium for leg in options), Decimal(0))


def _by_type(options, option_type):
    matching = [leg for leg in options if leg.option_type == option_type]
    if len(matching) > 1:
        raise UnsupportedGroupError(f"more than one {option_type} on one side")
    return matching[0] if matching else None


def _require_equal_size(options) -> None:
    if len({(leg.contracts, leg.multiplier) for leg in options}) != 1:
        raise UnsupportedGroupError("legs of unequal size (a ratio spread)")


def _require_same_expiry(options) -> None:
    if len({leg.expiration for leg in options}) != 1:
        raise UnsupportedGroupError("legs expiring on different dates (calendar)")
