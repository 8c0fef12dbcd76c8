"""Trade plan editor forms: shapes only (types, decimals); plan rules live in the service.

Each field's bounds mirror the API's input serializer (tradeplans.api.serializers),
so a value the API refuses with a 400 is a form error here, never a database
error (test_forms checks that the two agree).

The service (tradeplans.services) checks ranges and rules across fields and
strategies and names each bad field; the views put those messages next to
the fields these forms render.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from portfolios.strategy_types import STRATEGY_CHOICES, StrategyType

# Worded as the service words its own range checks, so the page reads the same
# whichever of the two caught the value.
BOUNDS_MESSAGES = {
    "min_value": "Must be at least %(limit_value)s.",
    "max_value": "Must be at most %(limit_value)s.",
}
MONEY = {
    "max_digits": 16,
    "decimal_places": 2,
    "required": False,
    "min_value": Decimal(0),
    "error_messages": BOUNDS_MESSAGES,
}
MAX_POSITIONS = 2**31 - 1  # the column is a PostgreSQL integer


class TradePlanForm(forms.Form):
    name = forms.CharField(max_length=120, label="Plan name")
    portfolio = forms.TypedChoiceField(
        label="Covers",
        coerce=int,
        empty_value=None,
        required=False,
        help_text="One portfolio, or all of yours.",
    )
    monthly_income_target = forms.DecimalField(
        label="Monthly income target, $", help_text="$ per calendar month.", **MONEY
    )
    risk_per_trade = forms.DecimalField(
        label="Risk per trade, $", help_text="$ of maximum loss per strategy group.", **MONEY
    )
    max_overnight_exposure = forms.DecimalField(
        label="Max overnight exposure, $",
        help_text="$ of beta-weighted delta: |BWD| × SPY price.",
        **MONEY,
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, portfolios=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].choices = [("", "All my portfolios")] + [
            (str(p["id"]), p["name"]) for p in portfolios
        ]


class StrategyRuleForm(forms.Form):
    strategy_type = forms.ChoiceField(
        label="Strategy", choices=[("", "Choose…"), *STRATEGY_CHOICES]
    )
    allocation_percentage = forms.DecimalField(
        label="Allocation, %",
        max_digits=5,
        decimal_places=2,
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages=BOUNDS_MESSAGES,
        help_text="0–100 % of the plan's buying power.",
    )
    max_positions = forms.IntegerField(
        label="Max positions",
        required=False,
        min_value=1,
        max_value=MAX_POSITIONS,
        error_messages=BOUNDS_MESSAGES,
    )
    delta_range_min = forms.DecimalField(
        label="Short Δ min",
        max_digits=4,
        decimal_places=3,
        required=False,
        min_value=Decimal(-1),
        max_value=Decimal(1),
        error_messages=BOUNDS_MESSAGES,
    )
    delta_range_max = forms.DecimalField(
        label="Short Δ max",
        max_digits=4,
        decimal_places=3,
        required=False,
        min_value=Decimal(-1),
        max_value=Decimal(1),
        error_messages=BOUNDS_MESSAGES,
        help_text="Per-contract delta of the short leg, −1…1: short call < 0, short put > 0.",
    )
    target_credit = forms.DecimalField(
        label="Target credit, $",
        required=False,
        max_digits=16,
        decimal_places=2,
        min_value=Decimal(0),
        error_messages=BOUNDS_MESSAGES,
        help_text="$ per contract.",
    )


StrategyRuleFormSet = forms.formset_factory(
    StrategyRuleForm,
    extra=1,
    can_delete=True,
    max_num=len(StrategyType),
    validate_max=True,
)

PLAN_FIELDS = (
    "name",
    "portfolio",
    "monthly_income_target",
    "risk_per_trade",
    "max_overnight_exposure",
    "is_active",
)
STRATEGY_FIELDS = (
    "strategy_type",
    "allocation_percentage",
    "max_positions",
    "delta_range_min",
    "delta_range_max",
    "target_credit",
)
