"""Trade plan API shapes (DESIGN.md §10, §11); units and signs in every help_text.

Inputs check shape only (types, one field's range); rules across fields and
rows (min ≤ max, allocations ≤ 100 % in total, one rule per strategy type,
the portfolio being the trader's) live in ``tradeplans.services``. Money,
percentages and delta bounds travel as decimal strings; greeks of the live
book as numbers.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from portfolios.strategy_types import STRATEGY_CHOICES
from thetavue_site.api.serializers import StrictBooleanField, StrictInputSerializer
from tradeplans import compliance
from tradeplans.models import TradePlan, TradePlanStrategy

MAX_ID = 2**63 - 1  # bigint primary keys

HELP = {
    "name": "The plan's name.",
    "portfolio": "Id of the portfolio this plan covers; null = all of your portfolios. "
    "A portfolio that is not yours is refused (400 naming `portfolio`).",
    "scope": '"portfolio" when the plan covers one portfolio, "all" when it covers all of them.',
    "monthly_income_target": "$ per calendar month (New York time) of realised income; "
    "decimal string ≥ 0, null = no target.",
    "risk_per_trade": "$ of maximum loss per position (strategy group); decimal string ≥ 0, "
    "null = no limit.",
    "max_overnight_exposure": "$ of beta-weighted delta (|BWD| × SPY price); decimal string "
    "≥ 0, null = no limit.",
    "is_active": "Only active plans raise breach notifications after a sync.",
    "strategies": "The plan's rule per strategy type (at most one each). On PUT the list "
    "replaces the plan's rules (left out = none); on PATCH it replaces them when given.",
    "strategy_type": "Strategy type, as detected on the positions (e.g. put_credit_spread).",
    "allocation_percentage": "0–100 % of the plan's buying power (Σ net liquidation value of "
    "the portfolios it covers); decimal string; the plan's strategies total ≤ 100.",
    "max_positions": "Most open groups of this strategy at once; ≥ 1, null = no limit.",
    "delta_range_min": "Lowest allowed delta of a short leg, per contract, −1…1 (decimal "
    "string), in the trader's position view as Tastytrade shows it: a short call's delta is "
    "negative (Δ 30 = −0.30), a short put's positive (0.30). With no negative bound the "
    "range compares |Δ| (0.16–0.30 fits both sides of a strangle); with a negative bound it "
    "compares the signed delta (−0.30 to −0.16: short calls of 16 to 30 delta). A range no "
    "short leg of the strategy can meet (e.g. a short put's below zero) is refused with a "
    "400 naming this field. Null = open.",
    "delta_range_max": "Highest allowed delta of a short leg, per contract, −1…1 (decimal "
    "string, the position view: short call < 0, short put > 0), ≥ delta_range_min. "
    "Null = open.",
    "target_credit": "$ of net credit per contract (per pattern copy) the strategy should "
    "collect; decimal string ≥ 0, null = no target.",
}


# Plans -------------------------------------------------------------------------


def _money(name: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, help_text=HELP[name], **kwargs)


def _delta(name: str, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=4, decimal_places=3, help_text=HELP[name], **kwargs)


class TradePlanStrategyInput(StrictInputSerializer):
    strategy_type = serializers.ChoiceField(
        choices=STRATEGY_CHOICES, help_text=HELP["strategy_type"]
    )
    allocation_percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=HELP["allocation_percentage"],
    )
    max_positions = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        allow_null=True,
        required=False,
        default=None,
        help_text=HELP["max_positions"],
    )
    delta_range_min = _delta(
        "delta_range_min",
        min_value=Decimal(-1),
        max_value=Decimal(1),
        allow_null=True,
        required=False,
        default=None,
    )
    delta_range_max = _delta(
        "delta_range_max",
        min_value=Decimal(-1),
        max_value=Decimal(1),
        allow_null=True,
        required=False,
        default=None,
    )
    target_credit = _money(
        "target_credit", min_value=Decimal(0), allow_null=True, required=False, default=None
    )

    REQUIRED = ("strategy_type", "allocation_percentage")

    def validate(self, attrs):
        # A PATCH makes nested fields optional too, but a strategy given in a
        # PATCH replaces the old ones and must be whole.
        missing = {name: ["This field is required."] for name in self.REQUIRED if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class TradePlanInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, help_text=HELP["name"])
    portfolio = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        required=False,
        default=None,
        help_text=HELP["portfolio"],
    )
    monthly_income_target = _money(
        "monthly_income_target",
        min_value=Decimal(0),
        allow_null=True,
        required=False,
        default=None,
    )
    risk_per_trade = _money(
        "risk_per_trade", min_value=Decimal(0), allow_null=True, required=False, default=None
    )
    max_overnight_exposure = _money(
        "max_overnight_exposure",
        min_value=Decimal(0),
        allow_null=True,
        required=False,
        default=None,
    )
    is_active = StrictBooleanField(required=False, default=True, help_text=HELP["is_active"])
    strategies = TradePlanStrategyInput(
        many=True, required=False, default=list, help_text=HELP["strategies"]
    )


class TradePlanStrategyOutput(serializers.ModelSerializer):
    strategy_type = serializers.ChoiceField(
        choices=STRATEGY_CHOICES, help_text=HELP["strategy_type"]
    )
    allocation_percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text=HELP["allocation_percentage"]
    )
    max_positions = serializers.IntegerField(allow_null=True, help_text=HELP["max_positions"])
    delta_range_min = _delta("delta_range_min", allow_null=True)
    delta_range_max = _delta("delta_range_max", allow_null=True)
    target_credit = _money("target_credit", allow_null=True)

    class Meta:
        model = TradePlanStrategy
        fields = (
            "id",
            "strategy_type",
            "allocation_percentage",
            "max_positions",
            "delta_range_min",
            "delta_range_max",
            "target_credit",
        )
        read_only_fields = fields


class TradePlanOutput(serializers.ModelSerializer):
    portfolio = serializers.IntegerField(
        source="portfolio_id", allow_null=True, help_text=HELP["portfolio"]
    )
    scope = serializers.SerializerMethodField(help_text=HELP["scope"])
    monthly_income_target = _money("monthly_income_target", allow_null=True)
    risk_per_trade = _money("risk_per_trade", allow_null=True)
    max_overnight_exposure = _money("max_overnight_exposure", allow_null=True)
    is_active = serializers.BooleanField(help_text=HELP["is_active"])
    strategies = TradePlanStrategyOutput(many=True, help_text=HELP["strategies"])

    class Meta:
        model = TradePlan
        fields = (
            "id",
            "name",
            "portfolio",
            "scope",
            "monthly_income_target",
            "risk_per_trade",
            "max_overnight_exposure",
            "is_active",
            "strategies",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_scope(self, plan: TradePlan) -> str:
        return "all" if plan.portfolio_id is None else "portfolio"


class TradePlanListQuery(StrictInputSerializer):
    portfolio = serializers.CharField(
        required=False,
        help_text='Only plans scoped to this portfolio id, or "all" for plans that cover all '
        "of your portfolios.",
    )


# Compliance --------------------------------------------------------------------

RULE_CHOICES = [
    (compliance.RULE_INCOME, "Month-to-date income vs monthly_income_target"),
    (compliance.RULE_EXPOSURE, "|BWD| in $ vs max_overnight_exposure"),
    (compliance.RULE_RISK, "A group's max loss vs risk_per_trade"),
    (compliance.RULE_ALLOCATION, "A strategy's share of buying power vs its allocation"),
    (compliance.RULE_MAX_POSITIONS, "Open groups of a strategy vs max_positions"),
    (compliance.RULE_DELTA, "A group's short-leg deltas vs the delta range"),
    (compliance.RULE_CREDIT, "A group's credit per contract vs target_credit"),
]
CHECK_STATUS_CHOICES = [
    ("ok", "within the limit"),
    ("warn", "within 10 % of the limit, behind pace, or a figure unknown"),
    ("breach", "past the limit, or undefined risk"),
]
OVERALL_STATUS_CHOICES = [
    ("ok", "every check is ok"),
    ("warn", "the worst check warns"),
    ("breach", "at least one check is in breach"),
]
UNIT_CHOICES = ["$", "%", "positions", "delta", "$ per contract"]


class ComplianceCheckOutput(serializers.Serializer):
    rule = serializers.ChoiceField(choices=RULE_CHOICES, help_text="Which plan rule.")
    subject = serializers.CharField(
        allow_null=True,
        help_text="What the rule judged: a strategy group id (risk_per_trade, delta_range, "
        "target_credit; see book.groups), a strategy type (allocation, max_positions), or "
        "null for the whole book.",
    )
    status = serializers.ChoiceField(
        choices=CHECK_STATUS_CHOICES,
        help_text="How the book stands against this rule (at max positions also warns).",
    )
    unit = serializers.ChoiceField(choices=UNIT_CHOICES, help_text="Unit of actual and limit.")
    actual = serializers.CharField(
        allow_null=True,
        help_text="The book's figure as a decimal string ($ to the cent, % of buying power, "
        "open groups, or per-contract Δ; |Δ| when the range has no negative bound); "
        "null when unknown.",
    )
    limit = serializers.CharField(
        allow_null=True,
        help_text="The plan's limit (or the delta bound nearest the short leg) as a decimal "
        "string, in the same unit.",
    )
    message = serializers.CharField(help_text="Why the check stands as it does, with numbers.")
    details = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="The numbers behind the check (decimal strings): e.g. warn_at, pace_target, "
        "buying_power_used.",
    )


class IncomePaceOutput(serializers.Serializer):
    elapsed_fraction = serializers.CharField(
        help_text="Share of the New York month gone by, 0…1 (decimal string)."
    )
    pace_target = serializers.CharField(
        help_text="$ of the target due by now = target × elapsed_fraction (decimal string)."
    )
    achieved_fraction = serializers.CharField(
        allow_null=True, help_text="mtd / target (decimal string); null when the target is 0."
    )
    on_pace = serializers.BooleanField(help_text="mtd ≥ pace_target.")


class IncomeOutput(serializers.Serializer):
    month = serializers.CharField(help_text="The New York calendar month, YYYY-MM.")
    mtd = serializers.CharField(
        help_text="$ of realised income this month so far (option premium opened and closed, "
        "dividends, interest, fees), after fees; decimal string, credit > 0."
    )
    target = serializers.CharField(
        allow_null=True, help_text="The plan's monthly_income_target, $; null when not set."
    )
    pace = IncomePaceOutput(allow_null=True, help_text="Null when the plan sets no target.")


class GroupOutput(serializers.Serializer):
    group_id = serializers.CharField(
        help_text="The group's id: its legs' strategy_group_id when unambiguous."
    )
    portfolio_id = serializers.IntegerField()
    strategy_type = serializers.ChoiceField(choices=STRATEGY_CHOICES)
    label = serializers.CharField(help_text='In a trader\'s words: "SPY put credit spread …".')
    position_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The legs (position ids) the group holds."
    )
    contracts = serializers.CharField(help_text="Pattern copies held (decimal string).")
    net_credit = serializers.CharField(
        help_text="$ for the whole group, credit > 0, debit < 0 (decimal string)."
    )
    credit_per_contract = serializers.CharField(
        allow_null=True, help_text="$ per pattern copy (decimal string); null when unknown."
    )
    max_loss = serializers.CharField(
        allow_null=True,
        help_text="$ the group can lose at expiry, > 0 a loss (decimal string); null when "
        "unbounded.",
    )
    max_profit = serializers.CharField(
        allow_null=True, help_text="$ (decimal string); null when unbounded or not fixed."
    )
    undefined_risk = serializers.BooleanField(
        help_text="Short options not covered by long options or cash (or a futures leg)."
    )
    buying_power_effect = serializers.CharField(
        allow_null=True,
        help_text="$ of buying power the group holds by Tastytrade's rules: requirement − "
        "premium received at open, the metrics endpoint's figure (decimal string); null "
        "when not computable (it then counts as $0).",
    )
    short_leg_deltas = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        help_text="Each short option leg's position delta per contract, as Tastytrade shows "
        "it (a short call's < 0, a short put's > 0); null for a leg without a delta.",
    )


class BookOutput(serializers.Serializer):
    portfolio_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="The portfolios the plan covers."
    )
    legs = serializers.IntegerField(help_text="Open legs in the book.")
    legs_unpriced = serializers.IntegerField(
        help_text="Legs without all stored greeks, left out of the beta-weighted delta (the "
        "metrics endpoint's rule)."
    )
    legs_beta_missing = serializers.IntegerField(
        help_text="Legs with a delta but no beta (other than SPY/ES), left out of it too."
    )
    buying_power = serializers.CharField(
        allow_null=True,
        help_text="$ the allocations are shares of: Σ net liquidation value of the "
        "portfolios covered (decimal string); null when none has one.",
    )
    beta_weighted_delta_dollars = serializers.CharField(
        allow_null=True,
        help_text="Signed $ of beta-weighted delta = Σ delta × beta × underlying price, from "
        "the greeks stored at the last sync (decimal string); null when no leg has both.",
    )
    groups = GroupOutput(many=True, help_text="Open strategy groups.")


class ComplianceOutput(serializers.Serializer):
    plan_id = serializers.IntegerField()
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the book's data was synced: the oldest last sync among the "
        "portfolios covered; null when none of them syncs from a broker.",
    )
    evaluated_at = serializers.DateTimeField(help_text="When the plan was evaluated.")
    overall_status = serializers.ChoiceField(
        choices=OVERALL_STATUS_CHOICES, help_text="The worst status among the checks; ok when none."
    )
    checks = ComplianceCheckOutput(many=True)
    income = IncomeOutput()
    book = BookOutput()


# Shaping the report --------------------------------------------------------------

RULE_UNITS = {
    compliance.RULE_INCOME: "$",
    compliance.RULE_EXPOSURE: "$",
    compliance.RULE_RISK: "$",
    compliance.RULE_ALLOCATION: "%",
    compliance.RULE_MAX_POSITIONS: "positions",
    compliance.RULE_DELTA: "delta",
    compliance.RULE_CREDIT: "$ per contract",
}
# Places shown per unit; statuses were decided on the exact figures.
UNIT_PLACES = {"$": 2, "$ per contract": 2, "%": 4, "positions": 0, "delta": 4}
MAX_DETAIL_PLACES = 6


def decimal_text(value: Decimal | None, places: int | None = None) -> str | None:
    """Format a Decimal as a plain decimal string (no exponent); round to ``places``."""
    if value is None:
        return None
    value = Decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    elif value.as_tuple().exponent < -MAX_DETAIL_PLACES:
        value = value.quantize(Decimal(1).scaleb(-MAX_DETAIL_PLACES))
    return format(value, "f")


def _detail_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return decimal_text(Decimal(value))


def compliance_payload(report) -> dict:
    """Shape a ``selectors.ComplianceReport`` as ComplianceOutput reads it."""
    book = report.book
    income = report.income
    pace = income.pace
    return {
        "plan_id": report.plan.pk,
        "as_of": book.as_of,
        "evaluated_at": report.evaluated_at,
        "overall_status": report.status.value,
        "checks": [
            {
                "rule": check.rule,
                "subject": check.subject,
                "status": check.status.value,
                "unit": RULE_UNITS[check.rule],
                "actual": decimal_text(check.actual, UNIT_PLACES[RULE_UNITS[check.rule]]),
                "limit": decimal_text(check.limit, UNIT_PLACES[RULE_UNITS[check.rule]]),
                "message": check.message,
                "details": {key: _detail_text(value) for key, value in check.details.items()},
            }
            for check in report.checks
        ],
        "income": {
            "month": f"{income.month[0]:04d}-{income.month[1]:02d}",
            "mtd": decimal_text(income.mtd, 2),
            "target": decimal_text(income.target, 2),
            "pace": None
            if pace is None
            else {
                "elapsed_fraction": decimal_text(pace.elapsed_fraction, MAX_DETAIL_PLACES),
                "pace_target": decimal_text(pace.pace_target, 2),
                "achieved_fraction": decimal_text(pace.achieved_fraction, MAX_DETAIL_PLACES),
                "on_pace": pace.on_pace,
            },
        },
        "book": {
            "portfolio_ids": list(book.portfolio_ids),
            "legs": book.legs,
            "legs_unpriced": book.legs_unpriced,
            "legs_beta_missing": book.legs_beta_missing,
            "buying_power": decimal_text(book.buying_power, 2),
            "beta_weighted_delta_dollars": decimal_text(book.beta_weighted_delta_dollars, 2),
            "groups": [_group_payload(group) for group in book.groups],
        },
    }


def _group_payload(group) -> dict:
    facts = group.facts
    return {
        "group_id": facts.group_id,
        "portfolio_id": group.portfolio_id,
        "strategy_type": facts.strategy_type.value,
        "label": facts.label,
        "position_ids": list(group.position_ids),
        "contracts": decimal_text(group.contracts.normalize()),
        "net_credit": decimal_text(group.net_credit, 2),
        "credit_per_contract": decimal_text(facts.credit_per_contract, 2),
        "max_loss": decimal_text(facts.max_loss, 2),
        "max_profit": decimal_text(group.max_profit, 2),
        "undefined_risk": facts.undefined_risk,
        "buying_power_effect": decimal_text(group.buying_power_effect, 2),
        "short_leg_deltas": [
            None if delta is None else float(delta) for delta in facts.short_leg_deltas
        ],
    }
