"""Nightly history of each portfolio's headline metrics (DESIGN.md §5 units)."""

from __future__ import annotations

from django.db import models

MONEY = {"max_digits": 18, "decimal_places": 2}


class HistoricalMetric(models.Model):
    portfolio = models.ForeignKey(
        "portfolios.Portfolio", on_delete=models.CASCADE, related_name="historical_metrics"
    )
    date = models.DateField(help_text="New York calendar date of the snapshot.")
    net_liquidation_value = models.DecimalField(**MONEY, null=True, blank=True)
    total_delta = models.FloatField(null=True, blank=True, help_text="Share-equivalents.")
    total_gamma = models.FloatField(null=True, blank=True)
    total_theta = models.FloatField(null=True, blank=True, help_text="$ per calendar day.")
    total_vega = models.FloatField(null=True, blank=True, help_text="$ per vol point.")
    beta_weighted_delta = models.FloatField(
        null=True, blank=True, help_text="SPY share-equivalents."
    )
    legs_unpriced = models.PositiveIntegerField(default=0)
    backfilled = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Net liq from the broker's balance snapshots, before ThetaVue measured "
        "the book (no greeks).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "historical_metrics"
        ordering = ["portfolio_id", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "date"], name="historical_metrics_portfolio_date_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.portfolio_id} @ {self.date}"
