"""Measure a live book against a trade plan (pure: no ORM, no I/O).

Every check names its rule, the numbers behind it and why it fired. Threshold
rules, each boundary included as written (WARN_FRACTION = 90 %):

- ``income_target``: ok when month-to-date income ≥ the month's pace target
  (target × share of the month gone by, to the cent) or ≥ the whole target;
  warn when behind pace. Never a breach: a month is judged at its end.
- ``risk_per_trade`` (per group): breach when the group has undefined risk
  (naked short units: the message says so) or max loss > limit; warn when
  max loss ≥ 90 % of the limit; ok below 90 %.
- ``overnight_exposure``: on |beta-weighted delta in $|: breach > max, warn
  ≥ 90 % of max, ok below.
- ``allocation`` (per strategy): share of buying power = Σ |buying-power
  effect| / buying power × 100. Breach > allocation, warn ≥ 90 % of it
  ("within 10 %" read relatively), ok below.
- ``max_positions`` (per strategy): open groups > max breach, == max warn,
  < max ok.
- ``delta_range`` (per group): each short leg's per-contract delta must lie in
  [min, max] (bounds included), else breach. Deltas are the trader's position
  view, as Tastytrade shows them: a short call's is negative, a short put's
  positive (Δ 30 short put = 0.30, short call = −0.30). A range with no
  negative bound compares |Δ|, so 0.16–0.30 fits both sides of a strangle;
  a range with a negative bound compares the signed delta (−0.30…−0.16: short
  calls of 16 to 30 delta). A leg without a delta warns.
- ``target_credit`` (per group): credit per contract ≥ target ok, < target
  warn; an unknown credit warns.

Limits left unset (None) produce no check. Money is $ (Decimal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from portfolios.income import month_pace
from portfolios.strategies import StrategyGroup
from portfolios.strategy_types import StrategyType

WARN_FRACTION = Decimal("0.9")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

RULE_INCOME = "income_target"
RULE_RISK = "risk_per_trade"
RULE_EXPOSURE = "overnight_exposure"
RULE_ALLOCATION = "allocation"
RULE_MAX_POSITIONS = "max_positions"
RULE_DELTA = "delta_range"
RULE_CREDIT = "target_credit"


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    BREACH = "breach"


_SEVERITY = {CheckStatus.OK: 0, CheckStatus.WARN: 1, CheckStatus.BREACH: 2}


@dataclass(frozen=True, slots=True)
class StrategyRule:
    """A plan's limits for one strategy; None means not set.

    ``allocation_percentage`` 0–100 of the plan's buying power;
    ``delta_range_min/max`` the short leg's per-contract position delta −1…1
    (short call < 0, short put > 0; no negative bound compares |Δ|);
    ``target_credit`` $ per contract.
    """

    strategy_type: StrategyType
    allocation_percentage: Decimal | None = None
    max_positions: int | None = None
    delta_range_min: Decimal | None = None
    delta_range_max: Decimal | None = None
    target_credit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A trade plan's limits in $; None means not set."""

    monthly_income_target: Decimal | None = None
    risk_per_trade: Decimal | None = None
    max_overnight_exposure: Decimal | None = None
    strategies: tuple[StrategyRule, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """One open strategy group as compliance sees it.

    ``max_loss`` $ (> 0 is a loss; None when unbounded); ``buying_power_effect``
    $ of buying power held (sign ignored); ``short_leg_deltas`` each short
    option leg's per-contract position delta (short call < 0, short put > 0;
    None when unpriced);
    ``credit_per_contract`` $ of net credit per pattern copy (debit < 0).
    """

    group_id: str
    strategy_type: StrategyType
    label: str
    max_loss: Decimal | None
    undefined_risk: bool
    buying_power_effect: Decimal = Decimal(0)
    short_leg_deltas: tuple[float | Decimal | None, ...] = ()
    credit_per_contract: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BookFacts:
    """The live book: income so far this month ($), groups, BWD in $, buying power ($)."""

    income_mtd: Decimal
    groups: tuple[GroupFacts, ...] = ()
    beta_weighted_delta_dollars: Decimal | None = None
    buying_power: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ComplianceCheck:
    """One check: which rule, about what, how it stands, the numbers, why."""

    rule: str
    subject: str | None
    status: CheckStatus
    actual: Decimal | None
    limit: Decimal | None
    message: str
    details: Mapping[str, Decimal | str | int | None] = field(default_factory=dict)


def group_facts(
    *,
    group: StrategyGroup,
    buying_power_effect: Decimal,
    short_leg_deltas: Sequence[float | Decimal | None] = (),
) -> GroupFacts:
    """Build a group's facts from detection plus its $ buying power and deltas."""
    credit = None
    if group.contracts:
        credit = (group.net_credit / group.contracts).quantize(CENT, ROUND_HALF_UP)
    return GroupFacts(
        group_id=group.group_id,
        strategy_type=group.strategy_type,
        label=group.label,
        max_loss=group.max_loss,
        undefined_risk=group.undefined_risk,
        buying_power_effect=buying_power_effect,
        short_leg_deltas=tuple(short_leg_deltas),
        credit_per_contract=credit,
    )


def evaluate_plan(*, plan: PlanSpec, book: BookFacts, now: datetime) -> list[ComplianceCheck]:
    """Return every check of the plan against the book, in a stable order.

    Order: income, exposure, risk per group, then per plan strategy (in the
    plan's order) allocation, max positions, and each group's delta and credit.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    groups = sorted(book.groups, key=lambda g: (g.strategy_type.value, g.group_id))
    checks: list[ComplianceCheck] = []
    if plan.monthly_income_target is not None:
        checks.append(_income(book.income_mtd, plan.monthly_income_target, now))
    if plan.max_overnight_exposure is not None:
        checks.append(_exposure(book.beta_weighted_delta_dollars, plan.max_overnight_exposure))
    if plan.risk_per_trade is not None:
        checks.extend(_risk(group, plan.risk_per_trade) for group in groups)
    for rule in plan.strategies:
        stype = StrategyType(rule.strategy_type)
        members = [g for g in groups if g.strategy_type == stype]
        if rule.allocation_percentage is not None:
            checks.append(_allocation(stype, members, book.buying_power, rule))
        if rule.max_positions is not None:
            checks.append(_max_positions(stype, len(members), rule.max_positions))
        for group in members:
            if rule.delta_range_min is not None or rule.delta_range_max is not None:
                delta = _delta(group, rule)
                if delta is not None:
                    checks.append(delta)
            if rule.target_credit is not None:
                checks.append(_credit(group, Decimal(rule.target_credit)))
    return checks


# The option types of a strategy's short legs, where the strategy fixes them.
# Calendars, diagonals, butterflies, ratio spreads and "other" may be built
# of either type, and long-only shapes have no short leg: no entry.
_PUT, _CALL = "P", "C"
SHORT_LEG_TYPES: Mapping[StrategyType, frozenset[str]] = {
    **dict.fromkeys(
        (
            StrategyType.SHORT_PUT,
            StrategyType.CASH_SECURED_PUT,
            StrategyType.PUT_CREDIT_SPREAD,
            StrategyType.PUT_DEBIT_SPREAD,
            StrategyType.SYNTHETIC_LONG,
        ),
        frozenset({_PUT}),
    ),
    **dict.fromkeys(
        (
            StrategyType.SHORT_CALL,
            StrategyType.COVERED_CALL,
            StrategyType.CALL_CREDIT_SPREAD,
            StrategyType.CALL_DEBIT_SPREAD,
            StrategyType.COLLAR,
            StrategyType.SYNTHETIC_SHORT,
        ),
        frozenset({_CALL}),
    ),
    **dict.fromkeys(
        (
            StrategyType.SHORT_STRANGLE,
            StrategyType.SHORT_STRADDLE,
            StrategyType.IRON_CONDOR,
            StrategyType.IRON_BUTTERFLY,
            StrategyType.JADE_LIZARD,
            StrategyType.REVERSE_JADE_LIZARD,
            StrategyType.BIG_LIZARD,
        ),
        frozenset({_PUT, _CALL}),
    ),
}


def delta_range_problem(
    strategy_type: StrategyType, low: Decimal | None, high: Decimal | None
) -> str | None:
    """Explain in words why no group of the strategy can meet a delta range, or None.

    Every short leg of a group must lie in the range. A range with no negative
    bound compares |Δ| and fits any side; a signed one compares position
    deltas, where a short call's lie in −1…0 and a short put's in 0…1, so a
    range with no room above zero can never hold a short put (a range below
    zero always has room for a short call).
    """
    signed = (low is not None and low < 0) or (high is not None and high < 0)
    if not signed or high is None or high > 0:
        return None
    if _PUT not in SHORT_LEG_TYPES.get(StrategyType(strategy_type), frozenset()):
        return None
    shown = f"{_delta_text(low if low is not None else Decimal(-1))} to {_delta_text(high)}"
    return (
        f"{StrategyType(strategy_type).label}: a short put's delta is positive "
        f"(Δ 30 = 0.30), so {shown} can never hold its short put. Enter a range like "
        "0.10 to 0.30 to compare sizes; a negative range is for short calls (Δ 30 = −0.30)."
    )


def overall_status(checks: Iterable[ComplianceCheck]) -> CheckStatus:
    """Return the worst status among the checks (ok when there are none)."""
    return max((c.status for c in checks), key=_SEVERITY.__getitem__, default=CheckStatus.OK)


# Checks ------------------------------------------------------------------------


def _income(mtd: Decimal, target: Decimal, now: datetime) -> ComplianceCheck:
    pace = month_pace(mtd=mtd, target=target, now=now)
    year, month = pace.month
    month_name = datetime(year, month, 1).strftime("%B %Y")  # noqa: DTZ001 - a name only
    elapsed = _pct(pace.elapsed_fraction * 100)
    details = {
        "pace_target": pace.pace_target,
        "elapsed_fraction": pace.elapsed_fraction,
        "month": f"{year:04d}-{month:02d}",
    }
    if mtd >= target:
        status = CheckStatus.OK
        why = f"meets the {_usd(target)} monthly target"
    elif pace.on_pace:
        status = CheckStatus.OK
        why = (
            f"is on pace: {elapsed} of {month_name} has passed, so "
            f"{_usd(pace.pace_target)} of the {_usd(target)} target was due by now"
        )
    else:
        status = CheckStatus.WARN
        why = (
            f"is behind pace: {elapsed} of {month_name} has passed, so "
            f"{_usd(pace.pace_target)} of the {_usd(target)} target was due by now "
            "(a warning only: the month is judged at its end)"
        )
    message = f"Income target: {_usd(mtd)} realised this month {why}."
    return ComplianceCheck(RULE_INCOME, None, status, mtd, target, message, details)


def _exposure(bwd_dollars: Decimal | None, limit: Decimal) -> ComplianceCheck:
    warn_at = limit * WARN_FRACTION
    details = {"warn_at": warn_at}
    if bwd_dollars is None:
        message = (
            "Overnight exposure: no beta-weighted delta is available, so the "
            f"{_usd(limit)} maximum cannot be checked."
        )
        return ComplianceCheck(RULE_EXPOSURE, None, CheckStatus.WARN, None, limit, message, details)
    actual = abs(bwd_dollars)
    status, why = _against_limit(actual, limit, "maximum")
    side = "long" if bwd_dollars >= 0 else "short"
    message = (
        f"Overnight exposure: the book is {side} {_usd(actual)} of SPY "
        f"(beta-weighted delta), {why}."
    )
    return ComplianceCheck(RULE_EXPOSURE, None, status, actual, limit, message, details)


def _risk(group: GroupFacts, limit: Decimal) -> ComplianceCheck:
    details: dict[str, Decimal | str | int | None] = {
        "warn_at": limit * WARN_FRACTION,
        "label": group.label,
    }
    if group.undefined_risk or group.max_loss is None:
        worst = (
            ""
            if group.max_loss is None
            else f" (were the underlying to go to zero it would lose {_usd(group.max_loss)})"
        )
        message = (
            f"Risk per trade: {group.label} has undefined risk: {_uncapped_because(group)}"
            f"{worst}, so it cannot be held within the {_usd(limit)} limit."
        )
        return ComplianceCheck(
            RULE_RISK, group.group_id, CheckStatus.BREACH, group.max_loss, limit, message, details
        )
    status, why = _against_limit(group.max_loss, limit, "limit")
    message = f"Risk per trade: {group.label} can lose up to {_usd(group.max_loss)}, {why}."
    return ComplianceCheck(
        RULE_RISK, group.group_id, status, group.max_loss, limit, message, details
    )


def _uncapped_because(group: GroupFacts) -> str:
    """Say why a group's loss is uncapped, in the words of what it holds."""
    if group.strategy_type == StrategyType.FUTURE:
        return "a future is leveraged, so its loss is not capped by what it cost"
    if group.strategy_type == StrategyType.STOCK:
        return "short stock's loss is uncapped"
    if group.strategy_type == StrategyType.OTHER:
        return "nothing in it caps its loss"
    return "short options not covered by long options or cash leave its loss uncapped"


def _allocation(
    stype: StrategyType,
    members: list[GroupFacts],
    buying_power: Decimal | None,
    rule: StrategyRule,
) -> ComplianceCheck:
    allocation = Decimal(rule.allocation_percentage or 0)
    used = sum((abs(Decimal(g.buying_power_effect)) for g in members), Decimal(0))
    details: dict[str, Decimal | str | int | None] = {
        "buying_power_used": used,
        "buying_power": buying_power,
        "warn_at": allocation * WARN_FRACTION,
    }
    name = _plural(stype)
    if not buying_power or buying_power <= 0:
        message = (
            f"Allocation: {name} hold {_usd(used)} of buying power, but the book's "
            f"net liq is unknown, so the {_pct(allocation)} allocation cannot be checked."
        )
        return ComplianceCheck(
            RULE_ALLOCATION, stype.value, CheckStatus.WARN, None, allocation, message, details
        )
    share = used / Decimal(buying_power) * 100
    status, why = _against_limit(share, allocation, "allocation", unit=_pct)
    # The plan's buying power is the book's net liq (LiveBook.buying_power).
    message = (
        f"Allocation: {name} hold {_usd(used)} of buying power, {_pct(share)} of the "
        f"{_usd(buying_power)} net liq, {why}."
    )
    return ComplianceCheck(
        RULE_ALLOCATION, stype.value, status, share, allocation, message, details
    )


def _max_positions(stype: StrategyType, count: int, limit: int) -> ComplianceCheck:
    name = _plural(stype)
    if count > limit:
        status, why = CheckStatus.BREACH, f"more than the {limit} allowed"
    elif count == limit:
        status, why = CheckStatus.WARN, f"the most allowed ({limit}): no room for another"
    else:
        status, why = CheckStatus.OK, f"under the {limit} allowed"
    message = f"Max positions: {count} open {name}, {why}."
    return ComplianceCheck(
        RULE_MAX_POSITIONS, stype.value, status, Decimal(count), Decimal(limit), message
    )


def _delta(group: GroupFacts, rule: StrategyRule) -> ComplianceCheck | None:
    if not group.short_leg_deltas:
        return None
    low = None if rule.delta_range_min is None else Decimal(rule.delta_range_min)
    high = None if rule.delta_range_max is None else Decimal(rule.delta_range_max)
    absolute = (low is None or low >= 0) and (high is None or high >= 0)
    shown = "|delta|" if absolute else "delta"
    bounds = (
        f"{_delta_text(low) if low is not None else '−1.00'} to "
        f"{_delta_text(high) if high is not None else '1.00'}"
    )
    details: dict[str, Decimal | str | int | None] = {
        "min": low,
        "max": high,
        "compares": "absolute" if absolute else "signed",
    }
    known = [_as_decimal(d) for d in group.short_leg_deltas if d is not None]
    missing = len(group.short_leg_deltas) - len(known)

    # Report the short leg nearest to (or furthest past) a bound.
    nearest: tuple[Decimal, Decimal, Decimal | None] | None = None
    for delta in known:
        value = abs(delta) if absolute else delta
        for bound, room in (
            (low, None if low is None else value - low),
            (high, None if high is None else high - value),
        ):
            if room is not None and (nearest is None or room < nearest[0]):
                nearest = (room, value, bound)
    if nearest is None:
        message = (
            f"Delta range: {group.label} has {missing} short leg(s) without a delta, "
            f"so the {shown} range {bounds} cannot be checked."
        )
        return ComplianceCheck(
            RULE_DELTA, group.group_id, CheckStatus.WARN, None, None, message, details
        )
    room, value, bound = nearest
    if room < 0:
        status = CheckStatus.BREACH
        why = f"outside the {shown} range {bounds}"
    elif missing:
        status = CheckStatus.WARN
        why = f"inside the {shown} range {bounds}, but {missing} short leg(s) have no delta"
    else:
        status = CheckStatus.OK
        why = f"inside the {shown} range {bounds}"
    # Two places, unless rounding would show a leg past a bound as on it.
    places = 2 if bound is None or _delta_text(value) != _delta_text(bound) or value == bound else 4
    message = f"Delta range: {group.label} has a short leg at {shown} {_delta_text(value, places)}, {why}."
    return ComplianceCheck(RULE_DELTA, group.group_id, status, value, bound, message, details)


def _credit(group: GroupFacts, target: Decimal) -> ComplianceCheck:
    credit = group.credit_per_contract
    if credit is None:
        message = (
            f"Target credit: {group.label} has no known credit, so the "
            f"{_usd(target)} per contract target cannot be checked."
        )
        return ComplianceCheck(RULE_CREDIT, group.group_id, CheckStatus.WARN, None, target, message)
    if credit >= target:
        status, why = CheckStatus.OK, "meets"
    else:
        status, why = CheckStatus.WARN, "falls short of"
    message = (
        f"Target credit: {group.label} took {_usd(credit)} per contract, which "
        f"{why} the {_usd(target)} target."
    )
    return ComplianceCheck(RULE_CREDIT, group.group_id, status, credit, target, message)


def _against_limit(
    actual: Decimal, limit: Decimal, noun: str, unit: Callable[[Decimal], str] | None = None
) -> tuple[CheckStatus, str]:
    """Grade ``actual`` against ``limit``: > limit breach, ≥ 90 % warn, else ok."""
    show = unit or _usd
    warn_at = limit * WARN_FRACTION
    if actual > limit:
        return CheckStatus.BREACH, f"above the {show(limit)} {noun}"
    if actual >= warn_at:
        return CheckStatus.WARN, (
            f"within 10 % of the {show(limit)} {noun} (warning from {show(warn_at)})"
        )
    return CheckStatus.OK, f"below 90 % of the {show(limit)} {noun}"


# Formatting --------------------------------------------------------------------


def _usd(amount: Decimal) -> str:
    rounded = Decimal(amount).quantize(CENT, ROUND_HALF_UP)
    sign = "−" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def _pct(value: Decimal) -> str:
    """A percentage to one decimal place: "27.9 %"."""
    return f"{Decimal(value).quantize(TENTH, ROUND_HALF_UP):f} %"


def _delta_text(value: Decimal, places: int = 2) -> str:
    """A per-contract delta to two decimal places, with a true minus: "−0.04"."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{'−' if rounded < 0 else ''}{abs(rounded):f}"


def _as_decimal(delta: float | Decimal) -> Decimal:
    # Through str so 0.3 stays 0.3, not 0.299999…, at a range's bound.
    return delta if isinstance(delta, Decimal) else Decimal(str(delta))


def _plural(stype: StrategyType) -> str:
    return f"{stype.label.lower()} groups"
