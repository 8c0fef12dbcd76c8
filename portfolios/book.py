"""The one adapter from stored position rows to what the rest of the product reads.

Pricing inputs, strategy detection, buying power, metrics, trade-plan
compliance, the what-if and the pages all start from ``portfolio_books``:
one query reads every column they need (``BOOK_COLUMNS``, the one list to
edit when positions gain a column) for any number of portfolios, then each
book is digested once:

- ``groups``: strategy detection over the whole book, so a leg's quantity
  may be split across groups (3 short puts: 2 in a strangle, 1 short put);
  each group carries its per-leg quantities. A group is named by the
  ``strategy_group_id`` its own legs carry when that is unambiguous (the sync
  stores the majority group there), else by detection's id;
- ``buying_power``: ``metrics.buying_power.book_buying_power`` over those
  groups, by the account type's margin rules;
- ``expired``: options past their expiry date that the broker still lists
  (``portfolios.instruments.option_expired``). Detection groups them apart
  from the live legs, their groups are flagged ``expired`` and hold no
  buying power, and every risk figure (greek totals, buying power, plan
  compliance) leaves them out; the pages show them, badged.

Money in $ as Decimal (credit > 0); quantities signed (short < 0).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.utils import timezone

from metrics.buying_power import (
    BookBuyingPower,
    GroupBuyingPower,
    MarginLeg,
    book_buying_power,
)
from metrics.pricing import LegInputs
from portfolios.instruments import (
    CASH_ACCOUNT_TYPES,
    LINEAR_INSTRUMENTS,
    OPTION_INSTRUMENTS,
    margin_rule,
    option_expired,
)
from portfolios.models import Portfolio, Position
from portfolios.pnl import pnl_annotations
from portfolios.strategies import (
    LegView,
    StrategyGroup,
    detect_strategies,
    group_order,
    leg_assignments,
)

# The leg columns: what the sync writes (with updated_at) and, with the row's
# identity, what every reader of the book reads. Adding a column to positions
# means adding it here.
LEG_COLUMNS = (
    "underlying_symbol",
    "instrument_type",
    "option_type",
    "strategy_type",
    "strategy_group_id",
    "quantity",
    "multiplier",
    "open_date",
    "expiration_date",
    "settlement_type",
    "strike_price",
    "average_open_price",
    "premium_received",
    "current_value",
    "mark",
    "previous_close",
    "underlying_price",
    "implied_volatility",
    "iv_status",
    "delta",
    "gamma",
    "theta",
    "vega",
    "rho",
    "greeks_source",
    "beta",
    "dividend_yield",
    "exercise_style",
    "exercise_style_source",
    "iv_rank",
    "iv_percentile",
    "opening_order_id",
)
# Every column a reader of the book needs, read in one statement.
BOOK_COLUMNS = ("id", "portfolio_id", "symbol", *LEG_COLUMNS, "updated_at")
# Computed per leg by portfolios.selectors.pnl_annotations.
PNL_COLUMNS = ("fees_since_open", "pnl_open", "pnl_day")
# Detection costs about n³ in the legs of one underlying (100 legs ≈ 0.4 s):
# a manual edit regroups its underlying only up to this size.
MAX_LEGS_TO_REGROUP = 80
# An expired group's buying power: none held, and not a group the rules missed.
EXPIRED_BUYING_POWER = GroupBuyingPower(
    requirement=None, reduction=None, source=None, note="expired: no risk left"
)

# LegInputs column → positions column.
PRICING_COLUMNS = {
    "instrument_type": "instrument_type",
    "option_type": "option_type",
    "strike": "strike_price",
    "expiration": "expiration_date",
    "settlement": "settlement_type",
    "mark": "mark",
    "underlying_price": "underlying_price",
    "quantity": "quantity",
    "multiplier": "multiplier",
    "dividend_yield": "dividend_yield",
    "broker_iv": "implied_volatility",
    "beta": "beta",
    "exercise_style": "exercise_style",
}


@dataclass(frozen=True, slots=True)
class GroupPart:
    """The part of one leg a group holds: signed quantity and its premium at open ($)."""

    position_id: int
    quantity: Decimal
    premium: Decimal


@dataclass(frozen=True)
class BookGroup:
    """One strategy group of a book, as every surface shows it."""

    group_id: str
    strategy_type: str
    underlying_symbol: str
    parts: tuple[GroupPart, ...]
    detected: StrategyGroup
    requirement: Decimal | None  # $ margin requirement at the current marks
    buying_power_reduction: Decimal | None  # $ = requirement − premium received at open
    buying_power_source: str | None
    buying_power_note: str
    expired: bool = False  # every leg is an option past its expiry: no risk left


@dataclass(frozen=True)
class Book:
    """A portfolio's stored legs (id order) digested once for every reader."""

    portfolio: Portfolio
    rows: list[dict[str, Any]]
    groups: tuple[BookGroup, ...]
    buying_power: BookBuyingPower
    owners: Mapping[int, str]  # leg id → its own group's id, as the sync stores it
    expired: frozenset[int] = frozenset()  # ids of the legs past their expiry

    def expired_mask(self) -> np.ndarray:
        """Return which legs (row order) are options past their expiry: out of the risk."""
        return np.array([row["id"] in self.expired for row in self.rows], dtype=bool)

    def live_rows(self) -> list[dict[str, Any]]:
        """Return the rows that still carry risk (every leg but the expired options)."""
        return [row for row in self.rows if row["id"] not in self.expired]

    def leg_inputs(self) -> LegInputs:
        """Return pricing inputs for the legs, in row order."""
        return leg_inputs(self.rows)

    def leg_group_ids(self) -> list[str]:
        """Return each leg's own group id (the group holding most of it), in row order."""
        return [self.owners.get(row["id"], "") for row in self.rows]


def leg_inputs(rows: Sequence[Mapping[str, Any]]) -> LegInputs:
    """Return pricing inputs for stored rows (``BOOK_COLUMNS`` dicts)."""
    columns = {name: [row[source] for row in rows] for name, source in PRICING_COLUMNS.items()}
    return LegInputs.from_columns(columns)


def _market_today() -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(settings.MARKET_TIME_ZONE))


def book_rows(*, portfolio_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Return the portfolios' legs by portfolio id, in id order, in one query."""
    # P/L per leg (fees since open, open and day P/L) comes with the same read.
    rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        Position.objects.filter(portfolio_id__in=list(portfolio_ids))
        .annotate(**pnl_annotations(today=_market_today()))
        .order_by("pk")
        .values(*BOOK_COLUMNS, *PNL_COLUMNS)
    ):
        rows[row["portfolio_id"]].append(row)
    return rows


def portfolio_books(
    *, portfolios: Sequence[Portfolio], today: dt.date | None = None
) -> dict[int, Book]:
    """Return each portfolio's digested book (one query for all their legs)."""
    rows = book_rows(portfolio_ids=[portfolio.pk for portfolio in portfolios])
    return {
        portfolio.pk: digest(portfolio=portfolio, rows=rows.get(portfolio.pk, []), today=today)
        for portfolio in portfolios
    }


def portfolio_book(*, portfolio: Portfolio, today: dt.date | None = None) -> Book:
    """Return one portfolio's digested book."""
    return portfolio_books(portfolios=[portfolio], today=today)[portfolio.pk]


def digest(
    *, portfolio: Portfolio, rows: list[dict[str, Any]], today: dt.date | None = None
) -> Book:
    """Detect the book's groups and their buying power from rows already read.

    ``today`` (New York) dates the groups' DTE; expiry is judged against it,
    or against the market's today when it is None.
    """
    market_day = today or _market_today()
    expired = frozenset(
        row["id"]
        for row in rows
        if option_expired(row["instrument_type"], row["expiration_date"], today=market_day)
    )
    views = [leg_view(row, portfolio=portfolio) for row in rows]
    detected = detect_book(views, today=today, expired=expired)
    by_id = {row["id"]: row for row in rows}
    names = _names(detected, by_id)
    margin_groups = {
        names[group.group_id]: (
            group.strategy_type.value,
            [margin_leg(by_id[part.leg_id], part.quantity, part.premium) for part in group.legs],
        )
        for group in detected
        if not _all_expired(group, expired)
    }
    broker = None if portfolio.is_manual else portfolio.maintenance_requirement
    buying_power = book_buying_power(
        margin_groups, rule=margin_rule(portfolio.account_type), broker_requirement=broker
    )
    groups = []
    for group in detected:
        name = names[group.group_id]
        figures = buying_power.groups.get(name, EXPIRED_BUYING_POWER)
        groups.append(
            BookGroup(
                group_id=name,
                strategy_type=group.strategy_type.value,
                underlying_symbol=group.underlying,
                parts=tuple(
                    GroupPart(int(part.leg_id), part.quantity, part.premium) for part in group.legs
                ),
                detected=group,
                requirement=figures.requirement,
                buying_power_reduction=figures.reduction,
                buying_power_source=figures.source,
                buying_power_note=figures.note,
                expired=_all_expired(group, expired),
            )
        )
    owners = {
        int(leg_id): names[group.group_id]
        for leg_id, group in leg_assignments(groups=detected).items()
    }
    return Book(
        portfolio=portfolio,
        rows=rows,
        groups=tuple(groups),
        buying_power=buying_power,
        owners=owners,
        expired=expired,
    )


def detect_book(
    views: Sequence[LegView], *, today: dt.date | None, expired: frozenset = frozenset()
) -> list[StrategyGroup]:
    """Detect a book's strategies, the ``expired`` leg ids apart from the live legs.

    Grouped with live legs, an expired one would lend its payoff to a live
    group (a calendar whose front month expired is now a long option), so it
    joins only other expired legs; the groups keep detection's order.
    """
    if not expired:
        return detect_strategies(views, today=today)
    live = [view for view in views if view.id not in expired]
    gone = [view for view in views if view.id in expired]
    groups = detect_strategies(live, today=today) + detect_strategies(gone, today=today)
    return sorted(groups, key=group_order)


def _all_expired(group: StrategyGroup, expired: frozenset) -> bool:
    return bool(expired) and all(part.leg_id in expired for part in group.legs)


def leg_owners(
    *, rows: Sequence[Mapping[str, Any]], portfolio: Portfolio, today: dt.date | None
) -> dict[int, tuple[str, str]] | None:
    """Return each leg id's own (strategy type, group id): the group holding most of it.

    None past MAX_LEGS_TO_REGROUP legs (then the legs keep their stored types).
    """
    if len(rows) > MAX_LEGS_TO_REGROUP:
        return None
    return group_owners([leg_view(row, portfolio=portfolio) for row in rows], today=today)


def group_owners(views: Sequence[LegView], *, today: dt.date | None) -> dict[Any, tuple[str, str]]:
    """Return each leg's (strategy type, group id) of the group holding most of it.

    What the sync and manual edits store on positions.strategy_type and
    strategy_group_id.
    """
    expired = frozenset(
        view.id
        for view in views
        if today is not None and option_expired(view.instrument_type, view.expiration, today=today)
    )
    groups = detect_book(views, today=today, expired=expired)
    return {
        leg_id: (group.strategy_type.value, group.group_id)
        for leg_id, group in leg_assignments(groups=groups).items()
    }


def leg_view(row: Mapping[str, Any], *, portfolio: Portfolio) -> LegView:
    """Return a stored leg as strategy detection reads it."""
    return detection_leg(
        row,
        leg_id=row["id"],
        account=str(portfolio.pk),
        account_is_cash=portfolio.account_type in CASH_ACCOUNT_TYPES,
    )


def detection_leg(
    row: Mapping[str, Any], *, leg_id: Any, account: str, account_is_cash: bool
) -> LegView:
    """Return a leg (positions column names) as strategy detection reads it."""
    return LegView(
        id=leg_id,
        account=account,
        underlying=row["underlying_symbol"],
        instrument_type=row["instrument_type"],
        quantity=row["quantity"],
        multiplier=row["multiplier"],
        option_type=row["option_type"],
        strike=row["strike_price"],
        expiration=row["expiration_date"],
        average_open_price=row.get("average_open_price"),
        premium_received=row.get("premium_received"),
        # A blank order id is "no order", not one order shared by every leg.
        opening_order_id=row.get("opening_order_id") or None,
        account_is_cash=account_is_cash,
    )


def margin_leg(row: Mapping[str, Any], quantity: Decimal, premium: Decimal) -> MarginLeg:
    """Return the part of a stored leg a group holds, as the buying-power rules read it."""
    is_option = row["instrument_type"] in OPTION_INSTRUMENTS
    price, underlying = row["mark"], row["underlying_price"]
    if row["instrument_type"] in LINEAR_INSTRUMENTS and not is_option:
        # A stock's price is its mark, else the quoted underlying (as pricing reads it).
        price = price if price is not None else underlying
        underlying = underlying if underlying is not None else price
    known_premium = row["premium_received"] is not None or row["average_open_price"] is not None
    return MarginLeg(
        leg_id=row["id"],
        instrument_type=row["instrument_type"],
        quantity=Decimal(quantity),
        multiplier=Decimal(row["multiplier"]),
        price=price,
        underlying_price=underlying,
        option_type=row["option_type"],
        strike=row["strike_price"],
        expiration=row["expiration_date"],
        open_premium=premium if known_premium else None,
    )


def _names(groups: Sequence[StrategyGroup], rows: Mapping[int, Mapping]) -> dict[str, str]:
    """Name each group by the strategy_group_id its own legs carry, when unambiguous.

    Each leg's own group is chosen as the sync chose it (``leg_assignments``);
    a group whose owned legs carry exactly one stored id, claimed by no other
    group, is named by it; any other group keeps detection's id.
    """
    stored_by_group: dict[str, set[str]] = defaultdict(set)
    for leg_id, group in leg_assignments(groups=groups).items():
        stored = rows[leg_id]["strategy_group_id"]
        if stored:
            stored_by_group[group.group_id].add(stored)
    claims: dict[str, int] = defaultdict(int)
    for stored in stored_by_group.values():
        for name in stored:
            claims[name] += 1
    names = {}
    taken = {group.group_id for group in groups}
    for group in groups:
        stored = sorted(stored_by_group.get(group.group_id, ()))
        unique = (
            len(stored) == 1
            and claims[stored[0]] == 1
            and (stored[0] == group.group_id or stored[0] not in taken)
        )
        names[group.group_id] = stored[0] if unique else group.group_id
    return names
