"""A trader's written plan and its per-strategy rules (DESIGN.md §10 units)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portfolios.strategy_types import STRATEGY_CHOICES

MONEY = {"max_digits": 18, "decimal_places": 2}


class TradePlan(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trade_plans"
    )
    portfolio = models.ForeignKey(
        "portfolios.Portfolio",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="trade_plans",
        help_text="The portfolio this plan covers; empty = all of the user's portfolios.",
    )
    name = models.CharField(max_length=120)
    monthly_income_target = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="$ per calendar month."
    )
    risk_per_trade = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="$ of maximum loss per strategy group."
    )
    max_overnight_exposure = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="$ of beta-weighted delta (|BWD| × SPY price)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "trade_plans"
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_income_target__isnull=True) | Q(monthly_income_target__gte=0),
                name="trade_plans_income_target_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(risk_per_trade__isnull=True) | Q(risk_per_trade__gte=0),
                name="trade_plans_risk_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(max_overnight_exposure__isnull=True) | Q(max_overnight_exposure__gte=0),
                name="trade_plans_exposure_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TradePlanStrategy(models.Model):
    trade_plan = models.ForeignKey(TradePlan, on_delete=models.CASCADE, related_name="strategies")
    strategy_type = models.CharField(max_length=30, choices=STRATEGY_CHOICES)
    allocation_percentage = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="0–100 % of the plan's buying power."
    )
    max_positions = models.PositiveIntegerField(null=True, blank=True)
    delta_range_min = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Short leg's delta per contract, −1…1.",
    )
    delta_range_max = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    target_credit = models.DecimalField(**MONEY, null=True, blank=True, help_text="$ per contract.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "trade_plan_strategies"
        verbose_name = "trade plan strategy"
        verbose_name_plural = "trade plan strategies"
        ordering = ["trade_plan_id", "strategy_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["trade_plan", "strategy_type"], name="trade_plan_strategies_type_unique"
            ),
            models.CheckConstraint(
                condition=Q(allocation_percentage__gte=0) & Q(allocation_percentage__lte=100),
                name="trade_plan_strategies_allocation_0_100",
            ),
            models.CheckConstraint(
                condition=Q(delta_range_min__isnull=True)
                | (Q(delta_range_min__gte=-1) & Q(delta_range_min__lte=1)),
                name="trade_plan_strategies_delta_min_range",
            ),
            models.CheckConstraint(
                condition=Q(delta_range_max__isnull=True)
                | (Q(delta_range_max__gte=-1) & Q(delta_range_max__lte=1)),
                name="trade_plan_strategies_delta_max_range",
            ),
            models.CheckConstraint(
                condition=Q(delta_range_min__isnull=True)
                | Q(delta_range_max__isnull=True)
                | Q(delta_range_min__lte=F("delta_range_max")),
                name="trade_plan_strategies_delta_min_le_max",
            ),
            models.CheckConstraint(
                condition=Q(max_positions__isnull=True) | Q(max_positions__gte=1),
                name="trade_plan_strategies_max_positions_positive",
            ),
            models.CheckConstraint(
                condition=Q(target_credit__isnull=True) | Q(target_credit__gte=0),
                name="trade_plan_strategies_target_credit_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trade_plan_id}: {self.strategy_type}"


class TradePlanBreach(models.Model):
    """A breach that is open now on a plan; the row is deleted when the check clears.

    One row per (plan, rule, subject) for as long as the check stays in breach,
    so the trader is told once per breach instead of after every sync; a
    breach that clears and comes back is a new row and a new notification.
    """

    trade_plan = models.ForeignKey(
        TradePlan, on_delete=models.CASCADE, related_name="open_breaches"
    )
    rule = models.CharField(max_length=30, help_text="The compliance rule, e.g. risk_per_trade.")
    subject = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="What the rule judged: a strategy group id, a strategy type, or empty.",
    )
    message = models.TextField(blank=True, default="", help_text="The latest check's message.")
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "trade_plan_breaches"
        verbose_name = "trade plan breach"
        verbose_name_plural = "trade plan breaches"
        ordering = ["trade_plan_id", "rule", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["trade_plan", "rule", "subject"], name="trade_plan_breaches_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trade_plan_id}: {self.rule} {self.subject}".rstrip()
