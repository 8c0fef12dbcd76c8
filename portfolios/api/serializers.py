"""Shapes of the portfolio API. Units and signs live in help_text (DESIGN.md §5, §11).

Output serializers read plain values (model instances or `.values()` dicts);
input serializers check shape and one field's range only, and refuse unknown
keys so a typo is a 400 naming the field instead of a silent no-op. Rules
across fields and rows live in portfolios.services.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from portfolios.models import Portfolio
from thetavue_site.api.serializers import (
    StrictBooleanField,
    StrictInputSerializer,
)

MONEY = {"max_digits": 18, "decimal_places": 2}
PRICE = {"max_digits": 18, "decimal_places": 6}
MAX_MULTIPLIER = 1_000_000
MAX_IMPLIED_VOLATILITY = 10.0  # 1000 %: above that it is a percentage typed as a fraction
MAX_EXPIRING_WITHIN_DAYS = 36_500

# Units and signs, written once and reused by input and output fields.
HELP = {
    "quantity": "Contracts (options, futures) or shares (stock), signed: short < 0.",
    "multiplier": "Units of the underlying per contract: 100 for standard equity options, "
    "1 for stock.",
    "strike_price": "Strike in the underlying's price units per share (decimal string); "
    "null for stock and futures.",
    "expiration_date": "Expiry date (YYYY-MM-DD, exchange date); null for stock.",
    "open_date": "Date the position was opened (YYYY-MM-DD), if known.",
    "average_open_price": "Average opening price per share or unit, unsigned, in $ "
    "(decimal string); null if unknown.",
    "mark": "Current mark per share or unit, ≥ 0, in $ (decimal string); null if not quoted.",
    "underlying_price": "Underlying's last price in $ (decimal string); null if unknown. "
    "Options need it to be priced (greeks).",
    "implied_volatility": "Implied volatility as a fraction: 0.25 = 25 %; null if unknown.",
    "beta": "Beta of the underlying against SPY (number); null if unknown.",
    "premium_received": "Opening cash flow of the whole position in $ (decimal string): "
    "−average_open_price × quantity × multiplier; credit > 0, debit < 0.",
    "current_value": "Market value of the whole position in $ (decimal string): "
    "mark × quantity × multiplier; a short position is < 0.",
    "unrealized_pnl": "Unrealised profit (> 0) or loss (< 0) in $ (decimal string): "
    "premium_received + current_value; null when either is unknown.",
    "delta": "Position delta in share-equivalents: Δ × quantity × multiplier "
    "(a short put is > 0; stock: its share count). Null when not priced.",
    "gamma": "Position gamma: change of delta (share-equivalents) per $1 move of the "
    "underlying. Null when not priced.",
    "theta": "Position theta in $ per calendar day: Θ × quantity × multiplier "
    "(short premium is > 0). Null when not priced.",
    "vega": "Position vega in $ per +1 vol point of implied volatility: "
    "ν × quantity × multiplier. Null when not priced.",
    "strategy_type": "Strategy this leg belongs to, as set by strategy detection.",
    "strategy_group_id": "Legs with the same id form one strategy; empty when ungrouped.",
    "dte": "Calendar days from today (New York) to expiration; negative once expired, "
    "null for stock and futures.",
}


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


class PortfolioDeleteQuery(serializers.Serializer):
    confirm = StrictBooleanField(
        required=False,
        default=False,
        help_text="Required (true) to delete a synced portfolio: its account is then "
        "skipped by future syncs until the broker is reconnected.",
    )
