"""Portfolios (one per broker account, or manual), their legs, balances and transactions.

Units and signs (DESIGN.md §5): quantity is signed (short < 0); money in $ as
Decimal; premium_received > 0 is a credit; current_value of a short is < 0;
delta in share-equivalents, theta in $ per calendar day, vega in $ per vol
point, all per position (already × quantity × multiplier).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from metrics.exercise import ExerciseStyleSource
from portfolios.strategy_types import STRATEGY_CHOICES

MONEY = {"max_digits": 18, "decimal_places": 2}
PRICE = {"max_digits": 18, "decimal_places": 6}


class InstrumentType(models.TextChoices):
    EQUITY = "Equity", "Equity"
    EQUITY_OPTION = "Equity Option", "Equity option"
    FUTURE = "Future", "Future"
    FUTURE_OPTION = "Future Option", "Future option"
    CRYPTOCURRENCY = "Cryptocurrency", "Cryptocurrency"


class OptionType(models.TextChoices):
    CALL = "C", "Call"
    PUT = "P", "Put"


class ExerciseStyle(models.TextChoices):
    AMERICAN = "American", "American"
    EUROPEAN = "European", "European"


class GreeksSource(models.TextChoices):
    IMPLIED = "implied", "Implied from the mark"
    MARKET_IV = "market_iv", "Broker's implied volatility"
    INTRINSIC = "intrinsic", "Intrinsic delta (expired, or no implied volatility)"
    LINEAR = "linear", "Stock or future (delta 1 per unit)"
    NONE = "none", "Not priced"


class Portfolio(models.Model):
    class AccountType(models.TextChoices):
        MARGIN = "margin", "Margin"
        CASH = "cash", "Cash"
        IRA = "ira", "IRA (cash)"
        PORTFOLIO_MARGIN = "portfolio_margin", "Portfolio margin"
        MANUAL = "manual", "Manual (held elsewhere)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios"
    )
    name = models.CharField(max_length=120)
    account_type = models.CharField(max_length=20, choices=AccountType.choices)
    # NULL, not "": manual portfolios have none, and the per-user unique ignores NULLs.
    broker_account_id = models.CharField(  # noqa: DJ001
        max_length=40, null=True, blank=True, help_text="The broker's account number."
    )
    broker_connection = models.ForeignKey(
        "brokers.BrokerConnection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portfolios",
    )
    net_liquidation_value = models.DecimalField(**MONEY, null=True, blank=True)
    cash_balance = models.DecimalField(**MONEY, null=True, blank=True)
    buying_power = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Derivative buying power available, $."
    )
    equity_buying_power = models.DecimalField(**MONEY, null=True, blank=True)
    maintenance_requirement = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Buying power in use per the broker, $."
    )
    spy_price = models.DecimalField(
        **PRICE, null=True, blank=True, help_text="SPY price at the last sync: the BWD benchmark."
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    # db_default: the sync upserts portfolio rows in raw SQL.
    unsupported_legs = models.JSONField(
        default=list,
        db_default=models.Value([], output_field=models.JSONField()),
        blank=True,
        help_text="Broker legs kept out of the book: symbol, instrument_type, quantity, reason.",
    )
    sync_version = models.PositiveIntegerField(
        default=0, help_text="Bumped by each write of legs; part of the metrics cache key."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "portfolios"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "broker_account_id"],
                name="portfolios_user_broker_account_unique",
            ),
            models.CheckConstraint(
                condition=Q(account_type="manual", broker_account_id__isnull=True)
                | (~Q(account_type="manual") & Q(broker_account_id__isnull=False)),
                name="portfolios_manual_has_no_broker_account",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_manual(self) -> bool:
        return self.account_type == self.AccountType.MANUAL


class Position(models.Model):
    """One leg of a portfolio; greeks are per position in DESIGN.md §5 units."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="positions")
    symbol = models.CharField(max_length=64, help_text="Broker symbol; OCC for equity options.")
    underlying_symbol = models.CharField(max_length=32)
    instrument_type = models.CharField(max_length=20, choices=InstrumentType.choices)
    # NULL for stock and futures: the API contract says "C"/"P"/null.
    option_type = models.CharField(  # noqa: DJ001
        max_length=1, choices=OptionType.choices, null=True, blank=True
    )
    strategy_type = models.CharField(max_length=30, choices=STRATEGY_CHOICES, default="other")
    strategy_group_id = models.CharField(max_length=64, blank=True, default="")
    quantity = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        help_text="Contracts, shares or coins (to 8 dp), signed: short < 0.",
    )
    multiplier = models.DecimalField(
        max_digits=14,
        decimal_places=6,
        default=1,
        help_text="Units per contract: 100 equity options, 50 /ES, 0.5 /MYM, 0.1 /MBT.",
    )
    open_date = models.DateField(null=True, blank=True)
    expiration_date = models.DateField(null=True, blank=True)
    settlement_type = models.CharField(max_length=2, default="PM")
    strike_price = models.DecimalField(**PRICE, null=True, blank=True)
    average_open_price = models.DecimalField(**PRICE, null=True, blank=True)
    premium_received = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="$; credit > 0, debit < 0."
    )
    current_value = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="mark × quantity × multiplier, $."
    )
    mark = models.DecimalField(**PRICE, null=True, blank=True)
    previous_close = models.DecimalField(
        **PRICE,
        null=True,
        blank=True,
        help_text="The broker's previous close per share/unit (as the mark); P/L day's base.",
    )
    underlying_price = models.DecimalField(**PRICE, null=True, blank=True)
    implied_volatility = models.FloatField(
        null=True, blank=True, help_text="Fraction: 0.25 = 25 %."
    )
    iv_status = models.CharField(max_length=20, blank=True, default="")
    delta = models.FloatField(null=True, blank=True, help_text="Share-equivalents; short put > 0.")
    gamma = models.FloatField(null=True, blank=True)
    theta = models.FloatField(
        null=True, blank=True, help_text="$ per calendar day; short premium > 0."
    )
    vega = models.FloatField(null=True, blank=True, help_text="$ per +1 vol point.")
    rho = models.FloatField(null=True, blank=True, help_text="$ per +1 percentage point of rate.")
    exercise_style = models.CharField(
        max_length=8,
        choices=ExerciseStyle.choices,
        blank=True,
        default="",
        # In the database too: rows written by raw SQL (bulk loads, the
        # sync's staging COPY) without the column get "" rather than a NULL error.
        db_default="",
        help_text="Options only: American or European; empty for stock and futures.",
    )
    exercise_style_source = models.CharField(
        max_length=6,
        choices=[
            (ExerciseStyleSource.BROKER.value, "The broker's instrument data"),
            (ExerciseStyleSource.TABLE.value, "ThetaVue's table of listings"),
        ],
        blank=True,
        default="",
        db_default="",
        help_text=(
            "Where a synced option's style came from: broker (instrument data, never "
            "asked again) or table (asked again at the next sync); empty otherwise."
        ),
    )
    iv_rank = models.FloatField(
        null=True, blank=True, help_text="Underlying's IV rank from market metrics, fraction 0-1."
    )
    iv_percentile = models.FloatField(
        null=True,
        blank=True,
        help_text="Underlying's IV percentile from market metrics, fraction 0-1.",
    )
    greeks_source = models.CharField(
        max_length=10, choices=GreeksSource.choices, default=GreeksSource.NONE
    )
    beta = models.FloatField(null=True, blank=True)
    dividend_yield = models.FloatField(null=True, blank=True)
    opening_order_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "positions"
        ordering = ["underlying_symbol", "expiration_date", "strike_price", "symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "symbol"], name="positions_portfolio_symbol_unique"
            ),
            models.CheckConstraint(condition=~Q(quantity=0), name="positions_quantity_nonzero"),
            models.CheckConstraint(
                condition=Q(multiplier__gt=0), name="positions_multiplier_positive"
            ),
            models.CheckConstraint(
                condition=Q(strike_price__isnull=True) | Q(strike_price__gt=0),
                name="positions_strike_positive",
            ),
            models.CheckConstraint(
                condition=(
                    Q(instrument_type__in=["Equity Option", "Future Option"])
                    & Q(option_type__isnull=False)
                    & Q(strike_price__isnull=False)
                    & Q(expiration_date__isnull=False)
                )
                | (
                    ~Q(instrument_type__in=["Equity Option", "Future Option"])
                    & Q(option_type__isnull=True)
                ),
                name="positions_option_fields_consistent",
            ),
            models.CheckConstraint(
                condition=Q(implied_volatility__isnull=True) | Q(implied_volatility__gte=0),
                name="positions_iv_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(mark__isnull=True) | Q(mark__gte=0), name="positions_mark_nonnegative"
            ),
        ]
        indexes = [models.Index(fields=["portfolio", "strategy_group_id"])]

    def __str__(self) -> str:
        return self.symbol

    @property
    def is_option(self) -> bool:
        return self.option_type is not None

    def days_to_expiry(self, today: dt.date | None = None) -> int | None:
        if self.expiration_date is None:
            return None
        today = today or timezone.localdate()
        return (self.expiration_date - today).days


class AccountBalance(models.Model):
    """The broker's balances for a portfolio, as of the last good sync (one row)."""

    portfolio = models.OneToOneField(Portfolio, on_delete=models.CASCADE, related_name="balance")
    net_liquidating_value = models.DecimalField(**MONEY)
    cash_balance = models.DecimalField(**MONEY, null=True, blank=True)
    equity_buying_power = models.DecimalField(**MONEY, null=True, blank=True)
    derivative_buying_power = models.DecimalField(**MONEY, null=True, blank=True)
    used_derivative_buying_power = models.DecimalField(**MONEY, null=True, blank=True)
    maintenance_requirement = models.DecimalField(**MONEY, null=True, blank=True)
    maintenance_excess = models.DecimalField(**MONEY, null=True, blank=True)
    broker_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "account_balances"

    def __str__(self) -> str:
        return f"{self.portfolio_id}: {self.net_liquidating_value}"


class Transaction(models.Model):
    """A broker transaction; `net_value` is signed (credit > 0) after fees."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="transactions")
    broker_transaction_id = models.BigIntegerField()
    transaction_type = models.CharField(max_length=40)
    transaction_sub_type = models.CharField(max_length=60, blank=True, default="")
    action = models.CharField(max_length=40, blank=True, default="")
    symbol = models.CharField(max_length=64, blank=True, default="")
    instrument_type = models.CharField(max_length=30, blank=True, default="")
    underlying_symbol = models.CharField(max_length=32, blank=True, default="")
    # 8 places: cryptocurrency fills (0.01234567 BTC).
    quantity = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    price = models.DecimalField(**PRICE, null=True, blank=True)
    value = models.DecimalField(**MONEY, help_text="Signed $, credit > 0.")
    net_value = models.DecimalField(**MONEY, help_text="Signed $ after fees, credit > 0.")
    fees = models.DecimalField(**MONEY, default=0, help_text="Commissions and fees, $ (≥ 0 paid).")
    order_id = models.CharField(max_length=64, blank=True, default="")
    executed_at = models.DateTimeField(null=True, blank=True)
    transaction_date = models.DateField(help_text="New York trade date.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "transactions"
        ordering = ["-transaction_date", "-broker_transaction_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "broker_transaction_id"],
                name="transactions_portfolio_broker_id_unique",
            )
        ]
        indexes = [models.Index(fields=["portfolio", "transaction_date"])]

    def __str__(self) -> str:
        return f"{self.transaction_date} {self.action or self.transaction_type} {self.symbol}"


__all__ = [
    "AccountBalance",
    "ExerciseStyle",
    "GreeksSource",
    "InstrumentType",
    "OptionType",
    "Portfolio",
    "Position",
    "Transaction",
]
