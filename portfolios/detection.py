"""Adapter between stored legs and strategy detection (portfolios.strategies).

Nothing else in the API imports detection directly.
Money in $ for a whole group, credit > 0; `max_loss` > 0 is a loss.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from portfolios import strategies
from portfolios.models import Portfolio

CASH_ACCOUNT_TYPES = frozenset({Portfolio.AccountType.CASH, Portfolio.AccountType.IRA})
# The largest strategy detection knows has 4 legs; a stored group far larger is
# not one strategy, and detecting it would only cost time.
MAX_LEGS_PER_GROUP = 12
# Detection costs about n³ in the legs of one underlying (100 legs ≈ 0.4 s,
# 200 ≈ 4 s): a manual edit regroups its underlying only up to this size.
MAX_LEGS_TO_REGROUP = 80


@dataclass(frozen=True)
class GroupRisk:
    """Risk figures of one strategy group; None where unbounded or not fixed."""

    strategy_type: str
    max_profit: Decimal | None
    max_loss: Decimal | None
    undefined_risk: bool


@dataclass(frozen=True)
class Assignment:
    strategy_type: str
    strategy_group_id: str


def _leg_views(legs: Sequence[Mapping], portfolio: Portfolio) -> list:
    account = str(portfolio.pk)
    is_cash = portfolio.account_type in CASH_ACCOUNT_TYPES
    return [
        strategies.LegView(
            id=leg["id"],
            account=account,
            underlying=leg["underlying_symbol"],
            instrument_type=leg["instrument_type"],
            quantity=leg["quantity"],
            multiplier=leg["multiplier"],
            option_type=leg["option_type"],
            strike=leg["strike_price"],
            expiration=leg["expiration_date"],
            average_open_price=leg.get("average_open_price"),
            premium_received=leg.get("premium_received"),
            # A blank order id is "no order", not one order shared by every leg.
            opening_order_id=leg.get("opening_order_id") or None,
            account_is_cash=is_cash,
        )
        for leg in legs
    ]


def assignments(
    *, legs: Sequence[Mapping], portfolio: Portfolio, today: dt.date
) -> dict[int, Assignment] | None:
    """Return each leg id's detected strategy type and group id.

    None when there are more than MAX_LEGS_TO_REGROUP legs (then the legs
    keep their types).
    """
    if len(legs) > MAX_LEGS_TO_REGROUP:
        return None
    groups = strategies.detect_strategies(_leg_views(legs, portfolio), today=today)
    owners = strategies.leg_assignments(groups=groups)
    return {
        leg_id: Assignment(
            strategy_type=str(group.strategy_type.value), strategy_group_id=group.group_id
        )
        for leg_id, group in owners.items()
    }


def _risk(group) -> GroupRisk:
    return GroupRisk(
        strategy_type=str(group.strategy_type.value),
        max_profit=group.max_profit,
        max_loss=group.max_loss,
        undefined_risk=bool(group.undefined_risk),
    )


def _holds_whole_legs(group, legs: Sequence[Mapping]) -> bool:
    """Return whether a detected group holds exactly these legs, each in full."""
    held = {part.leg_id: part.quantity for part in group.legs}
    return len(held) == len(legs) and all(held.get(leg["id"]) == leg["quantity"] for leg in legs)


def group_risks(
    *, groups: Mapping[str, Sequence[Mapping]], portfolio: Portfolio, today: dt.date
) -> dict[str, GroupRisk | None]:
    """Return each stored group's risk as detection sees its legs (None: not one strategy).

    Each group is detected on its own legs: detection's cost grows steeply with
    the legs of one underlying (about n³), so the whole book is never run here.
    None when the legs do not form one strategy held in full, or the group
    has more than MAX_LEGS_PER_GROUP legs.
    """
    risks: dict[str, GroupRisk | None] = dict.fromkeys(groups)
    for key, legs in groups.items():
        if len(legs) > MAX_LEGS_PER_GROUP:
            continue
        found = strategies.detect_strategies(_leg_views(legs, portfolio), today=today)
        if len(found) == 1 and _holds_whole_legs(found[0], legs):
            risks[key] = _risk(found[0])
    return risks
