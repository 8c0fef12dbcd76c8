"""Detect multi-leg strategies in a book of legs (pure: no ORM, no I/O).

One module past 500 lines on purpose: the grouping passes and the pattern table
they share read top to bottom as one algorithm; split, each half would need the
other's private matchers.

Grouping runs in this order:

1. account, then underlying: legs of different accounts or underlyings never
   share a group;
2. the opening order: legs that share an order key (``campaign_id`` when a roll
   set it, else ``opening_order_id``) are matched among themselves first. An
   order of exactly two same-type, same-expiry legs of opposite signs and
   unequal quantities is a ratio spread; otherwise multi-leg patterns found in
   the order are kept, and what the order leaves as singles joins the pool;
3. pattern: the pool (legs without an order, and order leftovers) is matched
   across orders, so a strangle legged in over two orders is still found;
4. leftovers: whatever quantity is still unmatched becomes one single-leg group
   per leg (3 short puts + 1 long put = put credit spread ×1 + short put ×2).

Patterns are tried in this order, each as often as it matches: iron butterfly,
iron condor, butterfly (1-2-1, one expiry, equal wings), broken-wing butterfly
(1-2-1, unequal wings), big lizard (short straddle + a higher long call), jade
lizard, reverse jade lizard (short call + a put credit spread below it),
collar (stock + short call + long put), synthetic long / short (long call and
short put at one strike, or the reverse), ratio spread (the only two legs of
one type and expiry, 1:2 or 2:1, opposite signs), vertical, covered call,
short straddle, short strangle, calendar, diagonal. After matching, parts
opened in different orders (legged in) are joined by expiry, size and
strikes into the iron condor, iron butterfly, jade or reverse jade lizard
they form. A pattern is
scaled by the largest common number of copies its legs hold (2/−4/2 is one
butterfly ×2). When several leg choices fit, the one that uses up the most legs
wholly wins, then the narrowest (strike span, then expiry span), then the
canonical leg order; so the result does not depend on the input order.

Units and signs follow DESIGN.md §5: quantities signed (short < 0), money in $
for the whole group, credit > 0.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from math import gcd

from portfolios.instruments import (
    EQUITY,
    FUTURE,
    FUTURE_OPTION,
    OPTION_INSTRUMENTS,
    UNDERLYING_INSTRUMENTS,
)
from portfolios.strategy_types import StrategyType

LegId = int | str

CENT = Decimal("0.01")
ZERO = Decimal(0)

FLAG_UPSIDE_RISK = "upside_risk"
FLAG_PREMIUM_UNKNOWN = "premium_unknown"
FLAG_REVERSE_CALENDAR = "reverse_calendar"

_VERTICALS = frozenset(
    {
        StrategyType.PUT_CREDIT_SPREAD,
        StrategyType.CALL_CREDIT_SPREAD,
        StrategyType.PUT_DEBIT_SPREAD,
        StrategyType.CALL_DEBIT_SPREAD,
    }
)


@dataclass(frozen=True, slots=True)
class LegView:
    """One open leg as detection sees it.

    ``quantity`` is signed (short < 0): contracts for options and futures,
    shares for equities. Premium comes from ``premium_received`` ($ for the
    whole leg, credit > 0) or, when that is None, from ``average_open_price``
    ($ per share, unsigned) as −price × quantity × multiplier; for stock and
    futures that is minus the cost basis. ``realized_credit`` is $ already
    realised by closing the legs this one was rolled from (credit > 0), so a
    rolled campaign's credits and debits add up. ``campaign_id`` is the order
    key of the position a roll replaced: legs with the same key group together
    as if opened in one order. A short put is cash-secured when
    ``account_is_cash`` or ``cash_secured`` is set.
    """

    id: LegId
    account: str
    underlying: str
    instrument_type: str
    quantity: Decimal | int
    multiplier: Decimal | int = 1
    option_type: str | None = None
    strike: Decimal | None = None
    expiration: date | None = None
    average_open_price: Decimal | None = None
    premium_received: Decimal | None = None
    opening_order_id: str | None = None
    campaign_id: str | None = None
    realized_credit: Decimal = ZERO
    account_is_cash: bool = False
    cash_secured: bool = False

    @property
    def premium(self) -> Decimal | None:
        """Return the opening cash flow of the whole leg in $ (credit > 0)."""
        if self.premium_received is not None:
            return Decimal(self.premium_received)
        if self.average_open_price is None:
            return None
        quantity = Decimal(self.quantity)
        return -Decimal(self.average_open_price) * quantity * self.multiplier

    @property
    def is_option(self) -> bool:
        return (
            self.instrument_type in OPTION_INSTRUMENTS
            and self.option_type in ("C", "P")
            and self.strike is not None
            and self.expiration is not None
        )


@dataclass(frozen=True, slots=True)
class GroupLeg:
    """The part of one leg a group holds: signed quantity, $ premium, $ realised."""

    leg_id: LegId
    quantity: Decimal
    premium: Decimal
    realized_credit: Decimal


@dataclass(frozen=True, slots=True)
class StrategyGroup:
    """One detected strategy; money in $ for the whole group, credit > 0.

    ``net_credit`` = Σ premium of the legs held + realised roll credits.
    ``max_profit`` / ``max_loss`` are the best and worst P/L at expiry over an
    underlying price from 0 to ∞, net of ``net_credit``; ``max_loss`` > 0 is a
    loss. None means unbounded (a naked short call, short stock) or not fixed
    by the expiry payoff (a calendar's or diagonal's profit). A covered call's
    max loss is the stock's cost − the call premium (the stock going to 0); a
    long put's max profit is strike × shares − debit.

    ``undefined_risk`` follows the trader's sense, not only the formula: it is
    set when the loss is unbounded, when short puts are not covered by long
    puts (a naked short put, a jade lizard, a put ratio spread: their finite
    "to zero" figure is still in ``max_loss``) unless cash-secured, for a
    reverse calendar or diagonal, and for any futures leg (leveraged).

    ``contracts`` is the number of pattern copies (the common divisor of the
    quantities); for a stock or futures group it is the |shares| or
    |contracts| held. ``width`` is $ per share between strikes where that
    bounds the risk. ``dte`` is days from ``today`` to the nearest expiry.
    """

    group_id: str
    strategy_type: StrategyType
    account: str
    underlying: str
    legs: tuple[GroupLeg, ...]
    leg_ids: tuple[LegId, ...]
    contracts: Decimal
    net_credit: Decimal
    realized_credit: Decimal
    max_profit: Decimal | None
    max_loss: Decimal | None
    undefined_risk: bool
    width: Decimal | None
    strikes: tuple[Decimal, ...]
    expirations: tuple[date, ...]
    dte: int | None
    flags: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def label(self) -> str:
        """Describe the group in a trader's words: "SPY iron condor 530/…"."""
        parts = [self.underlying, self.strategy_type.label.lower()]
        if self.strikes:
            parts.append("/".join(_plain(strike) for strike in self.strikes))
        parts.extend(expiry.isoformat() for expiry in self.expirations)
        parts.append(f"×{_plain(self.contracts)}")
        return " ".join(parts)


def detect_strategies(legs: Sequence[LegView], *, today: date | None = None) -> list[StrategyGroup]:
    """Group legs into strategies; return groups in a deterministic order.

    Legs with zero quantity belong to no group. Leg ids must be unique. The
    order is account, underlying, nearest expiry (stock last), strategy type,
    group id; group ids depend only on account, underlying, strategy type and
    the sorted leg ids, so they stay put across syncs of the same legs.
    """
    seen: set[LegId] = set()
    for leg in legs:
        if leg.id in seen:
            raise ValueError(f"duplicate leg id {leg.id!r}")
        seen.add(leg.id)

    ordered = sorted(legs, key=_leg_sort_key)
    buckets: dict[tuple[str, str], list[_Unit]] = defaultdict(list)
    for rank, leg in enumerate(ordered):
        if Decimal(leg.quantity) != 0:
            buckets[(leg.account, leg.underlying)].append(_Unit(leg, rank))

    groups: list[StrategyGroup] = []
    used_ids: set[str] = set()
    for key in sorted(buckets):
        for found in _detect_bucket(buckets[key]):
            groups.append(_build_group(found, today=today, used_ids=used_ids))
    groups.sort(key=group_order)
    return groups


def group_order(group: StrategyGroup) -> tuple:
    """Sort key of detected groups: account, underlying, nearest expiry, type, id."""
    return (
        group.account,
        group.underlying,
        group.expirations[0] if group.expirations else date.max,
        group.strategy_type.value,
        group.group_id,
    )


def leg_assignments(*, groups: Sequence[StrategyGroup]) -> dict[LegId, StrategyGroup]:
    """Return each leg's own group: where it stores strategy_type and group id.

    A leg split across groups belongs to the one holding most of its quantity;
    on a tie, to the group with more legs, then the smaller group id.
    """
    best: dict[LegId, tuple[tuple[Decimal, int, str], StrategyGroup]] = {}
    for group in groups:
        for part in group.legs:
            key = (-abs(part.quantity), -len(group.legs), group.group_id)
            current = best.get(part.leg_id)
            if current is None or key < current[0]:
                best[part.leg_id] = (key, group)
    return {leg_id: group for leg_id, (_, group) in best.items()}


# Matching ----------------------------------------------------------------------


class _Unit:
    """A leg's quantity and premium still free for matching."""

    __slots__ = ("leg", "rank", "remaining", "premium_left", "realized_left")

    def __init__(self, leg: LegView, rank: int) -> None:
        self.leg = leg
        self.rank = rank
        self.remaining = Decimal(leg.quantity)
        premium = leg.premium
        self.premium_left = premium if premium is not None else ZERO
        self.realized_left = Decimal(leg.realized_credit)

    @property
    def is_option(self) -> bool:
        return self.leg.is_option

    @property
    def is_underlying(self) -> bool:
        return self.leg.instrument_type in UNDERLYING_INSTRUMENTS

    @property
    def strike(self) -> Decimal:
        return _strike_of(self.leg)

    def take(self, quantity: Decimal) -> GroupLeg:
        """Move ``quantity`` (same sign as what is left) into a group."""
        if quantity == self.remaining:
            premium, realized = self.premium_left, self.realized_left
        else:
            # Pro rata, rounded to the cent; the last take gets the remainder so
            # the parts always sum to the leg's premium.
            share = quantity / self.remaining
            premium = (self.premium_left * share).quantize(CENT, ROUND_HALF_UP)
            realized = (self.realized_left * share).quantize(CENT, ROUND_HALF_UP)
        self.remaining -= quantity
        self.premium_left -= premium
        self.realized_left -= realized
        return GroupLeg(self.leg.id, quantity, premium, realized)


_Parts = tuple[tuple[_Unit, Decimal], ...]
_Candidate = tuple[StrategyType, _Parts]
_Pattern = Callable[[list[_Unit]], Iterator[_Candidate]]


@dataclass(frozen=True, slots=True)
class _Found:
    strategy_type: StrategyType
    units: tuple[_Unit, ...]
    legs: tuple[GroupLeg, ...]
    contracts: Decimal


def _detect_bucket(units: list[_Unit]) -> list[_Found]:
    found: list[_Found] = []
    by_order: dict[str, list[_Unit]] = defaultdict(list)
    for unit in units:
        order_key = unit.leg.campaign_id or unit.leg.opening_order_id
        if order_key is not None:
            by_order[order_key].append(unit)
    for order_key in sorted(by_order):
        members = by_order[order_key]
        if len(members) < 2:
            continue
        ratio = _whole_order_ratio(members)
        if ratio is not None:
            found.append(ratio)
            continue
        _match(members, found)
    _match(units, found)
    for unit in units:
        if unit.remaining != 0:
            stype = _single_type(unit.leg)
            contracts = abs(unit.remaining)
            found.append(_Found(stype, (unit,), (unit.take(unit.remaining),), contracts))
    return _merge_legged_in(found)


def _merge_legged_in(found: list[_Found]) -> list[_Found]:
    """Join spreads and singles opened in different orders into the structure they form.

    Within an order or the pool a condor or lizard is matched before its
    parts, so parts still apart here were opened in different orders (legged
    in). Matched by expiry, size and strikes, the closest short strikes first:
    put credit spread + call credit spread → iron condor (iron butterfly at
    one short strike); short put + call credit spread above it → jade lizard;
    short call + put credit spread below it → reverse jade lizard.
    """
    joins = (
        (StrategyType.PUT_CREDIT_SPREAD, StrategyType.CALL_CREDIT_SPREAD, None),
        (StrategyType.SHORT_PUT, StrategyType.CALL_CREDIT_SPREAD, StrategyType.JADE_LIZARD),
        (
            StrategyType.PUT_CREDIT_SPREAD,
            StrategyType.SHORT_CALL,
            StrategyType.REVERSE_JADE_LIZARD,
        ),
    )
    for put_type, call_type, joined in joins:
        found = _join(found, put_type, call_type, joined)
    return found


def _join(
    found: list[_Found],
    put_type: StrategyType,
    call_type: StrategyType,
    joined: StrategyType | None,
) -> list[_Found]:
    puts = [f for f in found if f.strategy_type == put_type]
    calls = [f for f in found if f.strategy_type == call_type]
    if not puts or not calls:
        return found

    def short_strike(group: _Found) -> Decimal:
        pairs = zip(group.units, group.legs, strict=True)
        return next(unit.strike for unit, part in pairs if part.quantity < 0)

    def expiry(group: _Found) -> date:
        return _expiry_of(group.units[0].leg)

    pairs = sorted(
        (short_strike(c) - short_strike(p), index_p, index_c)
        for index_p, p in enumerate(puts)
        for index_c, c in enumerate(calls)
        if expiry(p) == expiry(c)
        and p.contracts == c.contracts
        and short_strike(p) <= short_strike(c)
        and (joined is None or short_strike(p) < short_strike(c))
    )
    merged: list[_Found] = []
    used_puts: set[int] = set()
    used_calls: set[int] = set()
    for gap, index_p, index_c in pairs:
        if index_p in used_puts or index_c in used_calls:
            continue
        used_puts.add(index_p)
        used_calls.add(index_c)
        p, c = puts[index_p], calls[index_c]
        stype = joined or (StrategyType.IRON_BUTTERFLY if gap == 0 else StrategyType.IRON_CONDOR)
        merged.append(_Found(stype, p.units + c.units, p.legs + c.legs, p.contracts))
    gone = {id(puts[i]) for i in used_puts} | {id(calls[i]) for i in used_calls}
    return [f for f in found if id(f) not in gone] + merged


def _whole_order_ratio(members: list[_Unit]) -> _Found | None:
    """Return a ratio spread when the order is two unequal same-type legs."""
    if len(members) != 2 or not all(u.is_option for u in members):
        return None
    a, b = members
    if (
        a.leg.option_type != b.leg.option_type
        or a.leg.expiration != b.leg.expiration
        or a.strike == b.strike
        or (a.remaining > 0) == (b.remaining > 0)
        or abs(a.remaining) == abs(b.remaining)
        or any(u.remaining != u.remaining.to_integral_value() for u in members)
    ):
        return None
    common = Decimal(gcd(int(abs(a.remaining)), int(abs(b.remaining))))
    legs = (a.take(a.remaining), b.take(b.remaining))
    return _Found(StrategyType.RATIO_SPREAD, (a, b), legs, common)


def _match(units: list[_Unit], found: list[_Found]) -> None:
    for pattern in _PATTERNS:
        while True:
            live = [u for u in units if u.remaining != 0]
            best: tuple[tuple, StrategyType, _Parts, Decimal] | None = None
            for stype, parts in pattern(live):
                copies = _copies(parts)
                if copies < 1:
                    continue
                key = _candidate_key(parts, copies)
                if best is None or key < best[0]:
                    best = (key, stype, parts, copies)
            if best is None:
                break
            _, stype, parts, copies = best
            legs = tuple(unit.take(ratio * copies) for unit, ratio in parts)
            found.append(_Found(stype, tuple(u for u, _ in parts), legs, copies))


def _copies(parts: _Parts) -> Decimal:
    copies: Decimal | None = None
    for unit, ratio in parts:
        if (unit.remaining > 0) != (ratio > 0):
            return ZERO
        fits = abs(unit.remaining) // abs(ratio)
        copies = fits if copies is None else min(copies, fits)
    return copies if copies is not None else ZERO


def _candidate_key(parts: _Parts, copies: Decimal) -> tuple:
    whole = sum(1 for u, r in parts if abs(r) * copies == abs(u.remaining))
    strikes = [u.strike for u, _ in parts if u.is_option]
    expiries = [u.leg.expiration for u, _ in parts if u.leg.expiration is not None]
    strike_span = max(strikes) - min(strikes) if strikes else ZERO
    expiry_span = (max(expiries) - min(expiries)).days if expiries else 0
    return (-whole, strike_span, expiry_span, tuple(sorted(u.rank for u, _ in parts)))


def _options(units: list[_Unit]) -> list[_Unit]:
    return [u for u in units if u.is_option]


def _by_expiry(units: list[_Unit]) -> Iterator[list[_Unit]]:
    expiries: dict[date, list[_Unit]] = defaultdict(list)
    for unit in _options(units):
        expiries[_expiry_of(unit.leg)].append(unit)
    for expiry in sorted(expiries):
        yield expiries[expiry]


def _split(units: list[_Unit]) -> tuple[list[_Unit], ...]:
    """Return long puts, short puts, short calls, long calls."""
    puts = [u for u in units if u.leg.option_type == "P"]
    calls = [u for u in units if u.leg.option_type == "C"]
    return (
        [u for u in puts if u.remaining > 0],
        [u for u in puts if u.remaining < 0],
        [u for u in calls if u.remaining < 0],
        [u for u in calls if u.remaining > 0],
    )


ONE = Decimal(1)


def _iron_butterflies(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        lp, sp, sc, lc = _split(same)
        for a, b, c, d in itertools.product(lp, sp, sc, lc):
            if a.strike < b.strike == c.strike < d.strike:
                parts = ((a, ONE), (b, -ONE), (c, -ONE), (d, ONE))
                yield StrategyType.IRON_BUTTERFLY, parts


def _iron_condors(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        lp, sp, sc, lc = _split(same)
        for a, b, c, d in itertools.product(lp, sp, sc, lc):
            if a.strike < b.strike < c.strike < d.strike:
                yield StrategyType.IRON_CONDOR, ((a, ONE), (b, -ONE), (c, -ONE), (d, ONE))


def _butterflies(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        for kind in ("P", "C"):
            legs = sorted((u for u in same if u.leg.option_type == kind), key=_strike)
            for low, mid, high in itertools.combinations(legs, 3):
                equal_wings = mid.strike - low.strike == high.strike - mid.strike
                wing_sign = ONE if low.remaining > 0 else -ONE
                if (
                    low.strike < mid.strike < high.strike
                    and equal_wings
                    and (high.remaining > 0) == (wing_sign > 0)
                    and (mid.remaining > 0) != (wing_sign > 0)
                ):
                    parts = ((low, wing_sign), (mid, -2 * wing_sign), (high, wing_sign))
                    yield StrategyType.BUTTERFLY, parts


def _broken_wing_butterflies(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        for kind in ("P", "C"):
            legs = sorted((u for u in same if u.leg.option_type == kind), key=_strike)
            for low, mid, high in itertools.combinations(legs, 3):
                if (
                    low.strike < mid.strike < high.strike
                    and mid.strike - low.strike != high.strike - mid.strike
                    and low.remaining > 0
                    and high.remaining > 0
                    and mid.remaining < 0
                ):
                    parts = ((low, ONE), (mid, -2 * ONE), (high, ONE))
                    yield StrategyType.BROKEN_WING_BUTTERFLY, parts


def _big_lizards(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        _, sp, sc, lc = _split(same)
        for a, b, c in itertools.product(sp, sc, lc):
            if a.strike == b.strike < c.strike:
                yield StrategyType.BIG_LIZARD, ((a, -ONE), (b, -ONE), (c, ONE))


def _reverse_jade_lizards(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        lp, sp, sc, _ = _split(same)
        for a, b, c in itertools.product(lp, sp, sc):
            if a.strike < b.strike < c.strike:
                yield StrategyType.REVERSE_JADE_LIZARD, ((a, ONE), (b, -ONE), (c, -ONE))


def _collars(units: list[_Unit]) -> Iterator[_Candidate]:
    stocks = [u for u in units if u.is_underlying and u.remaining > 0]
    for same in _by_expiry(units):
        lp, _, sc, _ = _split(same)
        for stock, put, call in itertools.product(stocks, lp, sc):
            if put.strike <= call.strike:
                per_call = Decimal(call.leg.multiplier) / Decimal(stock.leg.multiplier)
                yield StrategyType.COLLAR, ((stock, per_call), (put, ONE), (call, -ONE))


def _synthetics(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        lp, sp, sc, lc = _split(same)
        for call, put in itertools.product(lc, sp):
            if call.strike == put.strike:
                yield StrategyType.SYNTHETIC_LONG, ((call, ONE), (put, -ONE))
        for call, put in itertools.product(sc, lp):
            if call.strike == put.strike:
                yield StrategyType.SYNTHETIC_SHORT, ((call, -ONE), (put, ONE))


def _pool_ratios(units: list[_Unit]) -> Iterator[_Candidate]:
    """A 1:2 or 2:1 pair that is all that is left of one type and expiry."""
    for same in _by_expiry(units):
        for kind in ("P", "C"):
            legs = [u for u in same if u.leg.option_type == kind]
            if len(legs) != 2:
                continue
            a, b = legs
            small, large = sorted((abs(a.remaining), abs(b.remaining)))
            if (a.remaining > 0) == (b.remaining > 0) or large != 2 * small:
                continue
            if any(u.remaining != u.remaining.to_integral_value() for u in legs):
                continue
            yield (
                StrategyType.RATIO_SPREAD,
                (
                    (a, a.remaining / small),
                    (b, b.remaining / small),
                ),
            )


def _jade_lizards(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        _, sp, sc, lc = _split(same)
        for a, b, c in itertools.product(sp, sc, lc):
            if a.strike < b.strike < c.strike:
                yield StrategyType.JADE_LIZARD, ((a, -ONE), (b, -ONE), (c, ONE))


def _verticals(units: list[_Unit]) -> Iterator[_Candidate]:
    for same in _by_expiry(units):
        lp, sp, sc, lc = _split(same)
        for short, long in itertools.product(sp, lp):
            if short.strike != long.strike:
                credit = short.strike > long.strike
                stype = StrategyType.PUT_CREDIT_SPREAD if credit else StrategyType.PUT_DEBIT_SPREAD
                yield stype, ((short, -ONE), (long, ONE))
        for short, long in itertools.product(sc, lc):
            if short.strike != long.strike:
                credit = short.strike < long.strike
                stype = (
                    StrategyType.CALL_CREDIT_SPREAD if credit else StrategyType.CALL_DEBIT_SPREAD
                )
                yield stype, ((short, -ONE), (long, ONE))


def _covered_calls(units: list[_Unit]) -> Iterator[_Candidate]:
    stocks = [u for u in units if u.is_underlying and u.remaining > 0]
    _, _, short_calls, _ = _split(_options(units))
    for stock, call in itertools.product(stocks, short_calls):
        # Each call needs its deliverable: multiplier shares (or futures units).
        per_call = Decimal(call.leg.multiplier) / Decimal(stock.leg.multiplier)
        yield StrategyType.COVERED_CALL, ((stock, per_call), (call, -ONE))


def _straddles_and_strangles(same_strike: bool) -> _Pattern:
    def pattern(units: list[_Unit]) -> Iterator[_Candidate]:
        for same in _by_expiry(units):
            _, sp, sc, _ = _split(same)
            for put, call in itertools.product(sp, sc):
                if (put.strike == call.strike) == same_strike:
                    stype = (
                        StrategyType.SHORT_STRADDLE if same_strike else StrategyType.SHORT_STRANGLE
                    )
                    yield stype, ((put, -ONE), (call, -ONE))

    return pattern


def _time_spreads(same_strike: bool) -> _Pattern:
    def pattern(units: list[_Unit]) -> Iterator[_Candidate]:
        for a, b in itertools.combinations(_options(units), 2):
            if (
                a.leg.option_type == b.leg.option_type
                and a.leg.expiration != b.leg.expiration
                and (a.remaining > 0) != (b.remaining > 0)
                and (a.strike == b.strike) == same_strike
            ):
                stype = StrategyType.CALENDAR if same_strike else StrategyType.DIAGONAL
                sign = ONE if a.remaining > 0 else -ONE
                yield stype, ((a, sign), (b, -sign))

    return pattern


_PATTERNS: tuple[_Pattern, ...] = (
    _iron_butterflies,
    _iron_condors,
    _butterflies,
    _broken_wing_butterflies,
    _big_lizards,
    _jade_lizards,
    _reverse_jade_lizards,
    _collars,
    _synthetics,
    _pool_ratios,
    _verticals,
    _covered_calls,
    _straddles_and_strangles(same_strike=True),
    _straddles_and_strangles(same_strike=False),
    _time_spreads(same_strike=True),
    _time_spreads(same_strike=False),
)


def _single_type(leg: LegView) -> StrategyType:
    if leg.is_option:
        short = Decimal(leg.quantity) < 0
        if leg.option_type == "P":
            if short and (leg.account_is_cash or leg.cash_secured):
                return StrategyType.CASH_SECURED_PUT
            return StrategyType.SHORT_PUT if short else StrategyType.LONG_PUT
        return StrategyType.SHORT_CALL if short else StrategyType.LONG_CALL
    if leg.instrument_type == EQUITY:
        return StrategyType.STOCK
    if leg.instrument_type == FUTURE:
        return StrategyType.FUTURE
    return StrategyType.OTHER


# Risk figures ------------------------------------------------------------------


def _build_group(found: _Found, *, today: date | None, used_ids: set[str]) -> StrategyGroup:
    stype = found.strategy_type
    leg_of = {unit.leg.id: unit.leg for unit in found.units}
    held = [(leg_of[part.leg_id], part.quantity) for part in found.legs]
    realized = sum((part.realized_credit for part in found.legs), ZERO)
    net_credit = sum((part.premium for part in found.legs), ZERO) + realized
    flags: list[str] = []
    notes: list[str] = []
    if any(leg.premium is None for leg, _ in held):
        flags.append(FLAG_PREMIUM_UNKNOWN)
        notes.append("opening price unknown for a leg: its premium counts as $0")

    options = [(leg, qty) for leg, qty in held if leg.is_option]
    strikes = tuple(sorted({_strike_of(leg) for leg, _ in options}))
    expirations = tuple(sorted({_expiry_of(leg) for leg, _ in options}))

    if stype == StrategyType.OTHER:
        max_profit = max_loss = None
        undefined = True
        notes.append(f"risk not computed for {held[0][0].instrument_type!r} legs")
    elif stype in (StrategyType.CALENDAR, StrategyType.DIAGONAL):
        max_profit, max_loss, undefined = _time_spread_risk(held, net_credit, found)
        if undefined:
            flags.append(FLAG_REVERSE_CALENDAR)
            notes.append("the short leg outlives the long one: it ends up naked")
    else:
        max_profit, max_loss = _expiry_bounds(held, net_credit)
        naked_puts = sum(
            (qty * leg.multiplier for leg, qty in options if leg.option_type == "P"),
            ZERO,
        )
        undefined = (
            max_loss is None
            or (naked_puts < 0 and stype != StrategyType.CASH_SECURED_PUT)
            or any(leg.instrument_type in (FUTURE, FUTURE_OPTION) for leg, _ in held)
        )

    width = _width(stype, options)
    if stype == StrategyType.JADE_LIZARD and width is not None:
        call_width = width * options[0][0].multiplier * found.contracts
        if net_credit >= call_width:
            notes.append(f"no upside risk: credit ${net_credit} ≥ call spread width ${call_width}")
        else:
            flags.append(FLAG_UPSIDE_RISK)
            notes.append(
                f"upside risk: credit ${net_credit} < call spread width "
                f"${call_width}; loses up to ${call_width - net_credit} above "
                "the long call"
            )

    leg_ids = tuple(sorted((part.leg_id for part in found.legs), key=_id_key))
    account, underlying = held[0][0].account, held[0][0].underlying
    group_id = _group_id(account, underlying, stype, leg_ids, used_ids)
    dte = (expirations[0] - today).days if today is not None and expirations else None
    return StrategyGroup(
        group_id=group_id,
        strategy_type=stype,
        account=account,
        underlying=underlying,
        legs=tuple(sorted(found.legs, key=lambda part: _id_key(part.leg_id))),
        leg_ids=leg_ids,
        contracts=found.contracts,
        net_credit=net_credit,
        realized_credit=realized,
        max_profit=max_profit,
        max_loss=max_loss,
        undefined_risk=undefined,
        width=width,
        strikes=strikes,
        expirations=expirations,
        dte=dte,
        flags=tuple(sorted(flags)),
        notes=tuple(notes),
    )


def _expiry_bounds(
    held: list[tuple[LegView, Decimal]], net_credit: Decimal
) -> tuple[Decimal | None, Decimal | None]:
    """Return (max profit, max loss) in $ at a common expiry, price 0…∞.

    The P/L is piecewise linear with kinks at the strikes, so its extremes lie
    at 0, at a strike, or at infinity (decided by the slope past the highest
    strike: calls and underlying held).
    """
    kinks = sorted({ZERO} | {_strike_of(leg) for leg, _ in held if leg.is_option})

    def pnl(price: Decimal) -> Decimal:
        total = net_credit
        for leg, qty in held:
            if leg.is_option:
                strike = _strike_of(leg)
                gap = price - strike if leg.option_type == "C" else strike - price
                total += qty * leg.multiplier * max(gap, ZERO)
            else:
                total += qty * leg.multiplier * price
        return total

    values = [pnl(price) for price in kinks]
    slope = sum(
        (qty * leg.multiplier for leg, qty in held if not leg.is_option or leg.option_type == "C"),
        ZERO,
    )
    max_profit = None if slope > 0 else max(values)
    max_loss = None if slope < 0 else -min(values)
    return max_profit, max_loss


def _time_spread_risk(
    held: list[tuple[LegView, Decimal]], net_credit: Decimal, found: _Found
) -> tuple[Decimal | None, Decimal | None, bool]:
    """Return (max profit, max loss, undefined) for a calendar or diagonal.

    Long leg expiring last: the loss is capped at the debit plus the strike
    gap that works against the spread (a call diagonal whose long strike is
    above the short one), minus any credit. The profit depends on volatility
    at the front expiry, so it is None. Short leg expiring last: undefined.
    """
    (long_leg, _), (short_leg, _) = sorted(held, key=lambda item: item[1] < 0)
    if _expiry_of(short_leg) > _expiry_of(long_leg):
        return None, None, True
    gap = _strike_of(long_leg) - _strike_of(short_leg)
    against = max(gap if long_leg.option_type == "C" else -gap, ZERO)
    max_loss = against * long_leg.multiplier * found.contracts - net_credit
    return None, max_loss, False


def _width(stype: StrategyType, options: list[tuple[LegView, Decimal]]) -> Decimal | None:
    def strikes(kind: str) -> list[Decimal]:
        return sorted(_strike_of(leg) for leg, _ in options if leg.option_type == kind)

    all_strikes = sorted(_strike_of(leg) for leg, _ in options)
    if stype in _VERTICALS or stype in (StrategyType.RATIO_SPREAD, StrategyType.DIAGONAL):
        return all_strikes[-1] - all_strikes[0]
    if stype == StrategyType.BUTTERFLY:
        return all_strikes[1] - all_strikes[0]
    if stype == StrategyType.BROKEN_WING_BUTTERFLY:
        low, mid, high = sorted(set(all_strikes))
        return max(mid - low, high - mid)
    if stype == StrategyType.BIG_LIZARD:
        calls = strikes("C")
        return calls[-1] - calls[0]
    if stype == StrategyType.REVERSE_JADE_LIZARD:
        puts = strikes("P")
        return puts[-1] - puts[0]
    if stype in (StrategyType.IRON_CONDOR, StrategyType.IRON_BUTTERFLY):
        puts, calls = strikes("P"), strikes("C")
        return max(puts[-1] - puts[0], calls[-1] - calls[0])
    if stype == StrategyType.JADE_LIZARD:
        calls = strikes("C")
        return calls[-1] - calls[0]
    return None


# Identity and ordering ---------------------------------------------------------


def _group_id(
    account: str,
    underlying: str,
    stype: StrategyType,
    leg_ids: tuple[LegId, ...],
    used_ids: set[str],
) -> str:
    # Quantities stay out of the hash, so adding a contract keeps the id.
    text = "\x1f".join([account, underlying, stype.value, *map(str, leg_ids)])
    group_id = "sg_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    candidate, n = group_id, 2
    while candidate in used_ids:
        candidate, n = f"{group_id}-{n}", n + 1
    used_ids.add(candidate)
    return candidate


def _id_key(leg_id: LegId) -> tuple[int, int, str]:
    if isinstance(leg_id, int):
        return (0, leg_id, "")
    return (1, 0, str(leg_id))


def _leg_sort_key(leg: LegView) -> tuple:
    return (
        leg.account,
        leg.underlying,
        leg.instrument_type,
        leg.expiration or date.min,
        leg.option_type or "",
        Decimal(leg.strike) if leg.strike is not None else ZERO,
        _id_key(leg.id),
    )


def _strike(unit: _Unit) -> Decimal:
    return unit.strike


def _strike_of(leg: LegView) -> Decimal:
    return Decimal(leg.strike) if leg.strike is not None else ZERO


def _expiry_of(leg: LegView) -> date:
    return leg.expiration if leg.expiration is not None else date.max


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}"
