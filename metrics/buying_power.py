"""Buying power of a book by Tastytrade's published rules, per strategy group, in Decimal $.

One function, ``book_buying_power``, takes the whole book's strategy groups
(as detection split them, a leg's quantity possibly shared by several groups)
and gives each group two figures:

- ``requirement``: the margin requirement at the current marks (Reg-T, as
  Tastytrade publishes it: the premium of a short option is part of its naked
  requirement);
- ``reduction`` (BPR): requirement − premium received at open for the group's
  options (credit > 0, a debit < 0 adds), from the stored premium. A
  defined-risk group's requirement is its worst payoff at expiry, which the
  marks do not move, so its BPR stays constant for the life of the trade.

Metrics, trade-plan compliance, the pages and the what-if all read this
function through ``portfolios.book``. Sources, one per rule (Tastytrade help
centre, "BP Effect / Margin Requirements"):

- naked put: support.tastyworks.com/support/solutions/articles/43000435177
- short straddle / strangle (and the naked call's 10 %-of-underlying term):
  support.tastyworks.com/support/solutions/articles/43000435282
- cash-secured put: tastyworks.freshdesk.com/support/solutions/articles/43000435285
- covered call: tastyworks.freshdesk.com/support/solutions/articles/43000435320
- short vertical: tastyworks.freshdesk.com/support/solutions/articles/43000435260
- iron condor (wider side): tastyworks.freshdesk.com/support/solutions/articles/43000435229
- butterfly: tastyworks.freshdesk.com/support/solutions/articles/43000435207
- long calendar (the debit): tastyworks.freshdesk.com/support/solutions/articles/43000435296
- short calendar (no relief): tastyworks.freshdesk.com/support/solutions/articles/43000435298
- jade lizard, no upside risk when the credit covers the call spread:
  tastylive.com/shows/from-theory-to-practice/episodes/strategy-session-jade-lizard-04-28-2016

Futures and futures options are margined by SPAN: the broker's figure when it
gives one, else the same rules on the contract's notional, flagged
"estimate". Portfolio-margin accounts: the broker's figures only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from portfolios.instruments import (
    EQUITY,
    FUTURES_INSTRUMENTS,
    OPTION_INSTRUMENTS,
    MarginRule,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)
NAKED_UNDERLYING_RATE = Decimal("0.20")
NAKED_MINIMUM_RATE = Decimal("0.10")
NAKED_FLOOR_PER_SHARE = Decimal("2.50")
STOCK_MARGIN_RATE = Decimal("0.50")
NET_LIQ_TOLERANCE = Decimal("0.005")  # 0.5 %

SOURCE_REG_T = "reg_t"
SOURCE_ESTIMATE = "estimate"
SOURCE_BROKER = "broker"
CASH_SECURED_PUT = "cash_secured_put"


class UnsupportedGroupError(ValueError):
    """The group's shape is not one the rules here cover."""


@dataclass(frozen=True, slots=True)
class MarginLeg:
    """The part of one leg a group holds.

    ``quantity`` is the group's signed share of the leg (short < 0);
    ``price`` and ``underlying_price`` are $ per share now (a stock's price is
    its own); ``open_premium`` is $ received at open for this part (credit > 0,
    None when unknown).
    """

    leg_id: int | str
    instrument_type: str
    quantity: Decimal
    multiplier: Decimal
    price: Decimal | None
    underlying_price: Decimal | None
    option_type: str | None = None
    strike: Decimal | None = None
    expiration: dt.date | None = None
    open_premium: Decimal | None = None

    @property
    def is_option(self) -> bool:
        return self.instrument_type in OPTION_INSTRUMENTS

    @property
    def contracts(self) -> Decimal:
        return abs(self.quantity)

    @property
    def value(self) -> Decimal:
        """Return the part's current value in $, unsigned."""
        return (self.price or ZERO) * self.multiplier * self.contracts


@dataclass(frozen=True, slots=True)
class GroupBuyingPower:
    """One group's requirement and BPR in $ (None where not computed), and why."""

    requirement: Decimal | None
    reduction: Decimal | None
    source: str | None
    note: str = ""

    @property
    def known(self) -> bool:
        return self.reduction is not None


@dataclass(frozen=True, slots=True)
class BookBuyingPower:
    """A book's buying power: the totals every surface shows, and each group's figures.

    ``used`` is the buying power in use: the broker's figure when it gave one,
    else Σ of the groups' BPR (None for a portfolio-margin account without a
    broker figure). ``requirement`` / ``reduction`` are Σ over the groups the
    rules covered; ``unsupported`` counts the groups left out; ``estimated``
    the futures groups whose figure is an estimate.
    """

    used: Decimal | None
    source: str | None
    requirement: Decimal
    reduction: Decimal
    unsupported: int
    estimated: int
    groups: Mapping[str, GroupBuyingPower] = field(default_factory=dict)


def book_buying_power(
    groups: Mapping[str, tuple[str, Sequence[MarginLeg]]],
    *,
    rule: MarginRule,
    broker_requirement: Decimal | None = None,
) -> BookBuyingPower:
    """Return the book's buying power from its groups (group id → (strategy type, legs)).

    ``broker_requirement`` is the broker's maintenance requirement for the
    whole account ($), used for ``used`` when given.
    """
    per_group = {
        group_id: group_buying_power(legs, rule=rule, strategy_type=strategy_type)
        for group_id, (strategy_type, legs) in groups.items()
    }
    known = [figures for figures in per_group.values() if figures.known]
    requirement = _cents(sum((f.requirement for f in known), ZERO))
    reduction = _cents(sum((f.reduction for f in known), ZERO))
    unsupported = sum(1 for figures in per_group.values() if not figures.known)
    estimated = sum(1 for f in per_group.values() if f.source == SOURCE_ESTIMATE)
    if broker_requirement is not None:
        used, source = _cents(broker_requirement), SOURCE_BROKER
    elif rule == MarginRule.BROKER_ONLY:
        used, source = None, None
    else:
        used, source = reduction, SOURCE_ESTIMATE if estimated else SOURCE_REG_T
    return BookBuyingPower(
        used=used,
        source=source,
        requirement=requirement,
        reduction=reduction,
        unsupported=unsupported,
        estimated=estimated,
        groups=per_group,
    )


def group_buying_power(
    legs: Sequence[MarginLeg], *, rule: MarginRule, strategy_type: str | None = None
) -> GroupBuyingPower:
    """Return one group's requirement and BPR in $ (each ≥ 0 except a credit-only BPR).

    ``strategy_type`` is the detected strategy, used to tell a cash-secured put
    in a margin account.
    """
    if rule == MarginRule.BROKER_ONLY:
        return GroupBuyingPower(None, None, SOURCE_BROKER, "portfolio margin: broker only")
    legs = [leg for leg in legs if leg.quantity != 0]
    if not legs:
        return GroupBuyingPower(ZERO.quantize(CENT), ZERO.quantize(CENT), SOURCE_REG_T)
    estimate = any(leg.instrument_type in FUTURES_INSTRUMENTS for leg in legs)
    try:
        requirement = _requirement(legs, rule=rule, strategy_type=strategy_type)
    except UnsupportedGroupError as error:
        return GroupBuyingPower(None, None, None, str(error))
    requirement = _cents(max(requirement, ZERO))
    premiums = [leg.open_premium for leg in legs if leg.is_option]
    note = "SPAN margined: an estimate by the Reg-T rules" if estimate else ""
    if any(premium is None for premium in premiums):
        note = (note + "; " if note else "") + "a premium at open is unknown: counted as $0"
    reduction = _cents(requirement - sum((p for p in premiums if p is not None), ZERO))
    return GroupBuyingPower(
        requirement, reduction, SOURCE_ESTIMATE if estimate else SOURCE_REG_T, note
    )


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


# Single-leg rules -------------------------------------------------------------


def naked_put_requirement(leg: MarginLeg) -> Decimal:
    """Return a naked short put's requirement in $ (premium included).

    Greatest of 20 % of the underlying − the OTM amount + premium, 10 % of the
    strike + premium, and $2.50 per share (article 43000435177: sell 1 45P at
    0.50, stock 47.50 → $750).
    """
    price, underlying, strike = _priced(leg)
    out_of_the_money = max(underlying - strike, ZERO)
    per_share = max(
        NAKED_UNDERLYING_RATE * underlying - out_of_the_money + price,
        NAKED_MINIMUM_RATE * strike + price,
        NAKED_FLOOR_PER_SHARE,
    )
    return per_share * leg.multiplier * leg.contracts


def naked_call_requirement(leg: MarginLeg) -> Decimal:
    """Return a naked short call's requirement in $ (premium included).

    As the put, with 10 % of the underlying (not the strike) in the second
    term (article 43000435282: −47C at 2.10, stock 45 → $910).
    """
    price, underlying, strike = _priced(leg)
    out_of_the_money = max(strike - underlying, ZERO)
    per_share = max(
        NAKED_UNDERLYING_RATE * underlying - out_of_the_money + price,
        NAKED_MINIMUM_RATE * underlying + price,
        NAKED_FLOOR_PER_SHARE,
    )
    return per_share * leg.multiplier * leg.contracts


def cash_secured_put_requirement(leg: MarginLeg) -> Decimal:
    """Return strike × multiplier × contracts in $ (article 43000435285: ×6 11P → $6,600)."""
    return _strike(leg) * leg.multiplier * leg.contracts


# Group rules --------------------------------------------------------------------


def _requirement(legs: list[MarginLeg], *, rule: MarginRule, strategy_type: str | None):
    options = [leg for leg in legs if leg.is_option]
    linear = [leg for leg in legs if not leg.is_option]
    for leg in options:
        if leg.option_type not in ("C", "P") or leg.strike is None:
            raise UnsupportedGroupError("an option leg needs an option type and strike")
    cash_secured = rule == MarginRule.REG_T_CASH or strategy_type == CASH_SECURED_PUT
    if linear:
        return _with_underlying(linear, options, rule=rule, cash_secured=cash_secured)
    return _options_requirement(options, rule=rule, cash_secured=cash_secured)


def _with_underlying(linear, options, *, rule, cash_secured) -> Decimal:
    """Stock (50 % margin, 100 % cash) with covered calls, protective puts and the rest.

    Covered call (article 43000435320): no requirement beyond the stock's; an
    in-the-money call values the stock at its strike. A collar's long put adds
    nothing to the requirement (its debit enters the BPR).
    """
    if any(leg.instrument_type != EQUITY for leg in linear):
        raise UnsupportedGroupError("outright futures: SPAN margin, the broker's figure only")
    shares = sum((leg.quantity * leg.multiplier for leg in linear), ZERO)
    if shares < 0 and rule == MarginRule.REG_T_CASH:
        raise UnsupportedGroupError("short stock is not allowed in a cash account")
    price = _stock_price(linear)
    rate = Decimal(1) if rule == MarginRule.REG_T_CASH else STOCK_MARGIN_RATE
    if shares <= 0:
        return rate * abs(shares) * price + _options_requirement(
            options, rule=rule, cash_secured=cash_secured
        )
    # Cover the lowest-strike short calls first: the most in the money.
    covered_value, free_shares, rest = ZERO, shares, []
    for leg in sorted(options, key=lambda leg: (leg.option_type, leg.strike)):
        deliverable = leg.contracts * leg.multiplier
        if leg.option_type == "C" and leg.quantity < 0 and deliverable <= free_shares:
            covered_value += deliverable * min(price, _strike(leg))
            free_shares -= deliverable
        else:
            rest.append(leg)
    stock = rate * (covered_value + free_shares * price)
    return stock + _options_requirement(rest, rule=rule, cash_secured=cash_secured)


def _options_requirement(options, *, rule, cash_secured) -> Decimal:
    if not options:
        return ZERO
    if len({leg.expiration for leg in options}) > 1:
        return _time_spread_requirement(options, rule=rule, cash_secured=cash_secured)
    puts = [leg for leg in options if leg.option_type == "P"]
    calls = [leg for leg in options if leg.option_type == "C"]
    put_spread, naked_puts = _pair(puts)
    call_spread, naked_calls = _pair(calls)
    if not naked_puts and not naked_calls:
        # Fully covered (verticals, iron condors and butterflies, broken wings,
        # long options): the worst payoff at expiry, the wider side of a condor
        # (articles 43000435260, 43000435229, 43000435207).
        return _worst_payoff(options)
    if naked_calls and rule == MarginRule.REG_T_CASH:
        raise UnsupportedGroupError("a naked call is not allowed in a cash account")
    put_side = _worst_payoff(put_spread) + sum(
        (_naked(leg, cash_secured=cash_secured) for leg in naked_puts), ZERO
    )
    call_side = _worst_payoff(call_spread) + sum(
        (_naked(leg, cash_secured=cash_secured) for leg in naked_calls), ZERO
    )
    if not puts or not calls:
        # One side only: a ratio spread's naked part is a naked option.
        return put_side + call_side
    if cash_secured:
        # Cash accounts have no strangle relief: each side is secured on its own.
        return put_side + call_side
    credit = sum((leg.open_premium or ZERO for leg in options), ZERO)
    # Jade and big lizards: a covered side whose risk the credit received pays
    # for carries no requirement (tastylive, jade lizard).
    if not naked_calls and credit >= call_side:
        call_side = ZERO
    if not naked_puts and credit >= put_side:
        put_side = ZERO
    # Strangle rule (article 43000435282): the larger side's requirement plus
    # the other side's premium (net of its longs) at the current marks.
    if put_side >= call_side:
        return put_side + max(_net_value(calls), ZERO)
    return call_side + max(_net_value(puts), ZERO)


def _time_spread_requirement(options, *, rule, cash_secured) -> Decimal:
    """Calendars and diagonals: a short covered by a long of its type expiring no earlier.

    A long calendar's BP effect is its debit (article 43000435296): nothing
    beyond the premium, so the requirement is 0 plus, for a diagonal, the
    strike gap that works against the spread. A short expiring after its long
    is naked (article 43000435298: no relief).
    """
    requirement = ZERO
    longs = {id(leg): leg.contracts for leg in options if leg.quantity > 0}
    for short in sorted((leg for leg in options if leg.quantity < 0), key=_expiry):
        left = short.contracts
        candidates = [
            leg
            for leg in options
            if leg.quantity > 0
            and leg.option_type == short.option_type
            and _expiry(leg) >= _expiry(short)
            and longs[id(leg)] > 0
        ]
        # The cover that leaves the smallest strike gap against the spread first.
        for long in sorted(candidates, key=lambda leg: _against(short, leg)):
            used = min(left, longs[id(long)])
            longs[id(long)] -= used
            left -= used
            requirement += _against(short, long) * short.multiplier * used
            if left == 0:
                break
        if left > 0:
            naked = _scaled(short, left)
            requirement += _naked(naked, cash_secured=cash_secured, rule=rule)
    return requirement


def _naked(leg: MarginLeg, *, cash_secured: bool, rule: MarginRule | None = None) -> Decimal:
    if leg.option_type == "P":
        return cash_secured_put_requirement(leg) if cash_secured else naked_put_requirement(leg)
    if rule == MarginRule.REG_T_CASH:
        raise UnsupportedGroupError("a naked call is not allowed in a cash account")
    return naked_call_requirement(leg)


def _pair(legs: list[MarginLeg]) -> tuple[list[MarginLeg], list[MarginLeg]]:
    """Split one type's legs into the covered part (a spread) and the naked shorts.

    Each short is covered by the long that protects it best (the highest put,
    the lowest call) while longs last; what is left short is naked.
    """
    if not legs:
        return [], []
    is_put = legs[0].option_type == "P"
    longs = sorted((leg for leg in legs if leg.quantity > 0), key=_strike, reverse=is_put)
    shorts = sorted((leg for leg in legs if leg.quantity < 0), key=_strike, reverse=is_put)
    free = sum((leg.contracts for leg in longs), ZERO)
    covered, naked = list(longs), []
    for short in shorts:
        take = min(free, short.contracts)
        free -= take
        if take > 0:
            covered.append(_scaled(short, take))
        if short.contracts > take:
            naked.append(_scaled(short, short.contracts - take))
    return covered, naked


def _worst_payoff(options: Sequence[MarginLeg]) -> Decimal:
    """Return the largest loss at expiry before premium, in $ (≥ 0), for covered legs.

    The payoff is piecewise linear with kinks at the strikes, so its minimum
    over 0…∞ is at 0 or a strike (covered legs have a slope ≥ 0 past the last).
    """
    if not options:
        return ZERO
    prices = {ZERO} | {_strike(leg) for leg in options}

    def payoff(price: Decimal) -> Decimal:
        total = ZERO
        for leg in options:
            strike = _strike(leg)
            gap = price - strike if leg.option_type == "C" else strike - price
            total += leg.quantity * leg.multiplier * max(gap, ZERO)
        return total

    return max(-min(payoff(price) for price in prices), ZERO)


def _net_value(options: Sequence[MarginLeg]) -> Decimal:
    """Return the value of the shorts less the longs at the current marks, in $."""
    return sum((-leg.quantity / leg.contracts * leg.value for leg in options), ZERO)


def _against(short: MarginLeg, long: MarginLeg) -> Decimal:
    """Return $ per share by which a long's strike is worse than its short's (≥ 0)."""
    gap = _strike(long) - _strike(short)
    return max(gap if short.option_type == "C" else -gap, ZERO)


def _scaled(leg: MarginLeg, contracts: Decimal) -> MarginLeg:
    sign = Decimal(1) if leg.quantity > 0 else Decimal(-1)
    share = contracts / leg.contracts
    premium = None if leg.open_premium is None else leg.open_premium * share
    return MarginLeg(
        leg_id=leg.leg_id,
        instrument_type=leg.instrument_type,
        quantity=sign * contracts,
        multiplier=leg.multiplier,
        price=leg.price,
        underlying_price=leg.underlying_price,
        option_type=leg.option_type,
        strike=leg.strike,
        expiration=leg.expiration,
        open_premium=premium,
    )


def _priced(leg: MarginLeg) -> tuple[Decimal, Decimal, Decimal]:
    if leg.price is None or leg.underlying_price is None:
        raise UnsupportedGroupError("a short option without a mark or underlying price")
    return leg.price, leg.underlying_price, _strike(leg)


def _stock_price(linear: Sequence[MarginLeg]) -> Decimal:
    for leg in linear:
        price = leg.price if leg.price is not None else leg.underlying_price
        if price is not None:
            return price
    raise UnsupportedGroupError("stock without a price")


def _strike(leg: MarginLeg) -> Decimal:
    return leg.strike if leg.strike is not None else ZERO


def _expiry(leg: MarginLeg) -> dt.date:
    return leg.expiration or dt.date.max


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
