"""Shapes of the portfolio resource (/api/portfolio/): units and signs in help_text."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from portfolios.api.serializers import MONEY, RHO_SIGNS
from portfolios.models import Portfolio
from thetavue_site.api.serializers import (
    StrictBooleanField,
    StrictInputSerializer,
)

# Portfolios ------------------------------------------------------------------

PORTFOLIO_HELP = {
    "account_type": "The broker's account type (margin, cash, ira, portfolio_margin), or "
    "`manual` for positions held elsewhere and edited here.",
    "net_liquidation_value": "Net liquidation value in $ (decimal string).",
    "cash_balance": "Cash balance in $ (decimal string).",
    "buying_power": "Derivative buying power available in $ (decimal string).",
}


@extend_schema_serializer(component_name="Portfolio")
class PortfolioOutput(serializers.ModelSerializer):
    is_manual = serializers.BooleanField(
        read_only=True, help_text="True for a manual portfolio (its legs are editable)."
    )
    broker_connection_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Broker connection that syncs it; null."
    )
    net_liquidation_value = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=PORTFOLIO_HELP["net_liquidation_value"]
    )
    cash_balance = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=PORTFOLIO_HELP["cash_balance"]
    )
    buying_power = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=PORTFOLIO_HELP["buying_power"]
    )
    maintenance_requirement = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Buying power in use per the broker, $ (decimal string).",
    )
    synced_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="End of the last good sync; null if manual."
    )
    sync_version = serializers.IntegerField(
        read_only=True, help_text="Bumped by every write of the legs (sync or manual edit)."
    )
    legs_count = serializers.IntegerField(read_only=True, help_text="Number of legs held.")
    legs_unpriced = serializers.IntegerField(
        read_only=True, help_text="Legs without greeks; the totals leave them out."
    )
    total_delta = serializers.FloatField(
        read_only=True, help_text="Σ position delta in share-equivalents (short put > 0)."
    )
    total_gamma = serializers.FloatField(
        read_only=True, help_text="Σ position gamma: share-equivalents per $1 move."
    )
    total_theta = serializers.FloatField(
        read_only=True, help_text="Σ position theta in $ per calendar day (short premium > 0)."
    )
    total_vega = serializers.FloatField(
        read_only=True, help_text="Σ position vega in $ per +1 vol point."
    )
    total_rho = serializers.FloatField(
        read_only=True,
        help_text="Σ position rho in $ per +1 percentage point of the risk-free rate, as "
        f"the metrics endpoint's total_rho. {RHO_SIGNS}",
    )
    total_premium_received = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ premium_received in $ (credit > 0); null when there are no legs.",
    )
    total_current_value = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ current_value in $ (shorts < 0); null when no leg has a mark.",
    )
    total_unrealized_pnl = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ unrealized P/L in $ over legs with both premium and mark (profit > 0).",
    )

    class Meta:
        model = Portfolio
        fields = [
            "id",
            "name",
            "account_type",
            "is_manual",
            "broker_account_id",
            "broker_connection_id",
            "net_liquidation_value",
            "cash_balance",
            "buying_power",
            "maintenance_requirement",
            "synced_at",
            "sync_version",
            "legs_count",
            "legs_unpriced",
            "total_delta",
            "total_gamma",
            "total_theta",
            "total_vega",
            "total_rho",
            "total_premium_received",
            "total_current_value",
            "total_unrealized_pnl",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"account_type": {"help_text": PORTFOLIO_HELP["account_type"]}}


class PortfolioCreateInput(StrictInputSerializer):
    read_only_keys = frozenset(PortfolioOutput.Meta.fields) - {
        "name",
        "account_type",
        "net_liquidation_value",
        "cash_balance",
        "buying_power",
    }

    name = serializers.CharField(max_length=120)
    account_type = serializers.ChoiceField(
        choices=Portfolio.AccountType.choices,
        default=Portfolio.AccountType.MANUAL,
        help_text="Only `manual` can be created; broker accounts come from a connection.",
    )
    net_liquidation_value = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, help_text=PORTFOLIO_HELP["net_liquidation_value"]
    )
    cash_balance = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, help_text=PORTFOLIO_HELP["cash_balance"]
    )
    buying_power = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, help_text=PORTFOLIO_HELP["buying_power"]
    )


class PortfolioUpdateInput(StrictInputSerializer):
    """PUT needs `name`; PATCH any subset. A synced portfolio accepts `name` only."""

    read_only_keys = frozenset(PortfolioOutput.Meta.fields) - {
        "name",
        "net_liquidation_value",
        "cash_balance",
        "buying_power",
    }

    name = serializers.CharField(max_length=120)
    net_liquidation_value = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        help_text=PORTFOLIO_HELP["net_liquidation_value"] + " Manual portfolios only.",
    )
    cash_balance = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        help_text=PORTFOLIO_HELP["cash_balance"] + " Manual portfolios only.",
    )
    buying_power = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        help_text=PORTFOLIO_HELP["buying_power"] + " Manual portfolios only.",
    )


class PortfolioDeleteQuery(StrictInputSerializer):
    confirm = StrictBooleanField(
        required=False,
        default=False,
        help_text="Required (true) to delete a synced portfolio: its account is then "
        "skipped by future syncs until the broker is reconnected.",
    )
