"""Writes to trade plans: create, replace, partial update, delete (DESIGN.md §10).

Every write is one transaction and validates everything before it stores
anything, so a bad strategy leaves the whole plan as it was. Errors are
Django ``ValidationError``s keyed by the API's field names
(``strategies[1].delta_range_max``), which the API's error handler turns into
the envelope.

Units: ``monthly_income_target`` $ per calendar month, ``risk_per_trade`` $ of
maximum loss per strategy group, ``max_overnight_exposure`` $ of |BWD| × SPY
price, ``allocation_percentage`` 0–100 % of the plan's buying power (≤ 100 in
total), ``delta_range_min/max`` the short leg's per-contract position delta
in −1…1 (a short call's is negative, a short put's positive; a range with no
negative bound compares |Δ|), ``target_credit`` $ per contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from portfolios.models import Portfolio
from portfolios.strategy_types import StrategyType
from tradeplans.compliance import delta_range_problem
from tradeplans.models import TradePlan, TradePlanStrategy
from tradeplans.notifications import plans_notify_breaches

MONEY_FIELDS = ("monthly_income_target", "risk_per_trade", "max_overnight_exposure")
PLAN_DEFAULTS: dict[str, Any] = {
    "portfolio": None,
    "monthly_income_target": None,
    "risk_per_trade": None,
    "max_overnight_exposure": None,
    "is_active": True,
}
PLAN_FIELDS = ("name", *PLAN_DEFAULTS)
STRATEGY_DEFAULTS: dict[str, Any] = {
    "max_positions": None,
    "delta_range_min": None,
    "delta_range_max": None,
    "target_credit": None,
}
STRATEGY_FIELDS = ("allocation_percentage", *STRATEGY_DEFAULTS)
MAX_ALLOCATION_TOTAL = Decimal(100)
NOT_YOURS = "Not one of your portfolios."

Fields = Mapping[str, Any]


@transaction.atomic
def trade_plan_create(
    *, user_id: str, fields: Fields, strategies: Sequence[Fields] = ()
) -> TradePlan:
    """Create a plan with its strategies; fields left out take their defaults."""
    values = {**PLAN_DEFAULTS, **fields}
    rules = [{**STRATEGY_DEFAULTS, **rule} for rule in strategies]
    _validate(user_id=user_id, values=values, strategies=rules)
    plan = TradePlan.objects.create(user_id=user_id, **_plan_columns(values))
    _strategies_replace(plan=plan, strategies=rules)
    _measure_now(user_id=user_id)
    return plan


@transaction.atomic
def trade_plan_replace(
    *, plan: TradePlan, fields: Fields, strategies: Sequence[Fields] = ()
) -> TradePlan:
    """Replace every field and the whole list of strategies; left-out fields reset."""
    return _update(
        plan=plan,
        values={**PLAN_DEFAULTS, **fields},
        strategies=[{**STRATEGY_DEFAULTS, **rule} for rule in strategies],
    )


@transaction.atomic
def trade_plan_update(
    *, plan: TradePlan, fields: Fields, strategies: Sequence[Fields] | None = None
) -> TradePlan:
    """Change the given fields; ``strategies``, when given, replaces the whole list."""
    values = {"name": plan.name, **_current(plan), **fields}
    rules = None if strategies is None else [{**STRATEGY_DEFAULTS, **rule} for rule in strategies]
    return _update(plan=plan, values=values, strategies=rules)


@transaction.atomic
def trade_plan_delete(*, plan: TradePlan) -> None:
    """Delete a plan with its strategies and open breaches."""
    plan.delete()


# Internals ---------------------------------------------------------------------


def _update(*, plan: TradePlan, values: dict[str, Any], strategies: list[dict] | None) -> TradePlan:
    # Lock the plan row: two edits of one plan queue here instead of
    # interleaving their strategy deletes and upserts.
    if not TradePlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk"):
        raise Http404("No such trade plan.")  # deleted after the caller read it
    _validate(user_id=plan.user_id, values=values, strategies=strategies)
    for name, value in _plan_columns(values).items():
        setattr(plan, name, value)
    plan.save()
    if strategies is not None:
        _strategies_replace(plan=plan, strategies=strategies)
    _measure_now(user_id=plan.user_id)
    return plan


def _measure_now(*, user_id: str) -> None:
    """Measure the saved plan on the live book at once, so its breaches notify now.

    Same transaction as the save: the breach rows and notifications commit
    with the plan, deduplicated exactly as after a sync.
    """
    plans_notify_breaches(user_id=user_id)


def _current(plan: TradePlan) -> dict[str, Any]:
    return {
        "portfolio": plan.portfolio_id,
        "monthly_income_target": plan.monthly_income_target,
        "risk_per_trade": plan.risk_per_trade,
        "max_overnight_exposure": plan.max_overnight_exposure,
        "is_active": plan.is_active,
    }


def _plan_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    columns = {name: values[name] for name in PLAN_FIELDS if name != "portfolio"}
    columns["name"] = str(values["name"]).strip()
    columns["portfolio_id"] = values["portfolio"]
    return columns


def _strategies_replace(*, plan: TradePlan, strategies: Sequence[Mapping[str, Any]]) -> None:
    """Make the plan's strategies exactly ``strategies``; rows keep their id per type."""
    types = [rule["strategy_type"] for rule in strategies]
    plan.strategies.exclude(strategy_type__in=types).delete()
    if not strategies:
        return
    now = timezone.now()
    TradePlanStrategy.objects.bulk_create(
        [
            TradePlanStrategy(
                trade_plan=plan,
                strategy_type=rule["strategy_type"],
                updated_at=now,
                **{name: rule[name] for name in STRATEGY_FIELDS},
            )
            for rule in strategies
        ],
        update_conflicts=True,
        unique_fields=["trade_plan", "strategy_type"],
        update_fields=[*STRATEGY_FIELDS, "updated_at"],
    )


def _validate(
    *, user_id: str, values: Mapping[str, Any], strategies: Sequence[Mapping] | None
) -> None:
    """Raise one ValidationError naming every field that breaks a plan rule."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    name = values.get("name")
    if name is None or not str(name).strip():
        fail("name", "A plan needs a name.")
    for field in MONEY_FIELDS:
        problem = _amount_problem(values.get(field), low=Decimal(0))
        if problem:
            fail(field, problem)
    portfolio_id = values.get("portfolio")
    if portfolio_id is not None:
        # Another trader's portfolio and one that does not exist read alike:
        # their existence is not this trader's to learn.
        if not Portfolio.objects.filter(user_id=user_id, pk=portfolio_id).exists():
            fail("portfolio", NOT_YOURS)
    if strategies is not None:
        _validate_strategies(strategies, fail)
    if errors:
        raise ValidationError(errors)


def _validate_strategies(strategies: Sequence[Mapping], fail) -> None:
    seen: dict[str, int] = {}
    total = Decimal(0)
    total_known = True
    for index, rule in enumerate(strategies):
        prefix = f"strategies[{index}]"
        stype = rule.get("strategy_type")
        if stype not in StrategyType._value2member_map_:
            fail(f"{prefix}.strategy_type", f"Unknown strategy type {stype!r}.")
        elif stype in seen:
            fail(
                f"{prefix}.strategy_type",
                f"{StrategyType(stype).label} is already in this plan (rule "
                f"{seen[stype] + 1}); give each strategy type one rule.",
            )
        else:
            seen[stype] = index

        allocation = rule.get("allocation_percentage")
        problem = (
            "Required."
            if allocation is None
            else _amount_problem(allocation, low=Decimal(0), high=Decimal(100))
        )
        if problem:
            fail(f"{prefix}.allocation_percentage", problem)
            total_known = False
        else:
            total += Decimal(allocation)

        max_positions = rule.get("max_positions")
        if max_positions is not None and (
            isinstance(max_positions, bool) or not isinstance(max_positions, int)
        ):
            fail(f"{prefix}.max_positions", "Must be a whole number.")
        elif max_positions is not None and max_positions < 1:
            fail(f"{prefix}.max_positions", "Must be at least 1.")

        bounds = {}
        for field in ("delta_range_min", "delta_range_max"):
            problem = _amount_problem(rule.get(field), low=Decimal(-1), high=Decimal(1))
            if problem:
                fail(f"{prefix}.{field}", problem)
            else:
                bounds[field] = rule.get(field)
        low, high = bounds.get("delta_range_min"), bounds.get("delta_range_max")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            fail(
                f"{prefix}.delta_range_max",
                f"Must be at least the minimum delta ({_delta_text(low)}); the range runs "
                "from the minimum up to the maximum.",
            )
        elif stype in StrategyType._value2member_map_:
            problem = delta_range_problem(
                StrategyType(stype),
                None if low is None else Decimal(low),
                None if high is None else Decimal(high),
            )
            if problem:
                fail(f"{prefix}.delta_range_min", problem)

        problem = _amount_problem(rule.get("target_credit"), low=Decimal(0))
        if problem:
            fail(f"{prefix}.target_credit", problem)

    if total_known and total > MAX_ALLOCATION_TOTAL:
        fail(
            "strategies",
            f"Allocations add up to {total} %; a plan's strategies may use at most "
            "100 % of its buying power.",
        )


def _amount_problem(value: Any, *, low: Decimal, high: Decimal | None = None) -> str | None:
    """Return why ``value`` is not a finite number within [low, high], or None (None is fine)."""
    if value is None:
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        return "A number is required."
    if not number.is_finite():
        return "Must be a finite number."
    if number < low:
        return f"Must be at least {low}."
    if high is not None and number > high:
        return f"Must be at most {high}."
    return None


def _delta_text(value: Any) -> str:
    """A delta as a trader reads it: two places and a true minus ("−0.10")."""
    rounded = Decimal(value).quantize(Decimal("0.01"))
    return f"{'−' if rounded < 0 else ''}{abs(rounded):f}"
