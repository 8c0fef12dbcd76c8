"""Shapes of the portfolio API. Units and signs live in help_text (DESIGN.md §5, §11).

Output serializers read plain values (model instances or `.values()` dicts);
input serializers check shape and one field's range only, and refuse unknown
keys so a typo is a 400 naming the field instead of a silent no-op. Rules
across fields and rows live in portfolios.services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from portfolios.models import GreeksSource, InstrumentType, OptionType, Portfolio
from portfolios.position_pages import UPDATED_AT_UTC
from portfolios.selectors import POSITION_ORDERING_FIELDS, PositionFilters
from portfolios.strategy_types import STRATEGY_CHOICES

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
    "previous_close": "The broker's previous close per share or unit in $ (decimal string), "
    "the base of pnl_day; null when the broker gave none.",
    "fees_since_open": "Commissions and fees paid on this symbol since the open date, "
    "in $ (decimal string, ≥ 0).",
    "pnl_open": "P/L since open in $ (decimal string): premium_received + current_value "
    "− fees_since_open; profit > 0. Null when the premium or the value is unknown.",
    "pnl_day": "P/L today in $ (decimal string): current_value − previous_close × quantity "
    "× multiplier (a leg opened today: premium_received + current_value); profit > 0, "
    "fees excluded. Null without the broker's previous close.",
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


class StrictInputSerializer(serializers.Serializer):
    """Refuse keys the serializer does not know, naming each one."""

    # Keys a client may see in the output but never write.
    read_only_keys: frozenset[str] = frozenset()
    # The browsable API's HTML forms post these alongside the data.
    ignored_keys = frozenset({"csrfmiddlewaretoken", "_content_type", "_content"})

    def to_internal_value(self, data):
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            for key in data:
                if key in self.fields or key in self.ignored_keys:
                    continue
                unknown[key] = [
                    "Read-only field." if key in self.read_only_keys else "Unknown field."
                ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@extend_schema_field(OpenApiTypes.NUMBER)
class QuantityField(serializers.DecimalField):
    """A signed quantity: read from a number or decimal string, written as a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=6, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = Decimal(value)
        if value == value.to_integral_value():
            return int(value)
        return float(value)


class DictListSerializer(serializers.ListSerializer):
    """Many `.values()` rows: the converters (and the time zone) are looked up once."""

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        converters = self.child.converters()
        return [
            _row_json(row, converters)
            if isinstance(row, Mapping)
            else self.child.to_representation(row)
            for row in rows
        ]


class DictOutputSerializer(serializers.Serializer):
    """Output serializer for `.values()` rows: DRF's JSON without its per-field overhead.

    A 500-leg book is 15 000 fields; DRF's generic path (get_attribute,
    SkipField checks, a field method per value) costs ~5× this loop. Model
    instances still take the generic path; test_api_positions checks that
    both give the same JSON.
    """

    class Meta:
        list_serializer_class = DictListSerializer

    @classmethod
    def converters(cls) -> tuple:
        """Return (name, to_json) for each field, built once per class and time zone."""
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        cache = cls.__dict__.get("_converters")
        if cache is None:
            cache = cls._converters = {}
        converters = cache.get(zone)
        if converters is None:
            converters = cache[zone] = tuple(
                (name, _fast_converter(field, zone)) for name, field in cls().fields.items()
            )
        return converters

    @classmethod
    def converter_of(cls, name: str):
        """Return the to_json function of one field (in the current time zone)."""
        return dict(cls.converters())[name]

    def to_representation(self, instance):
        if not isinstance(instance, Mapping):
            return super().to_representation(instance)
        return _row_json(instance, self.converters())


def _row_json(row: Mapping, converters: tuple) -> dict:
    return {
        name: None if (value := row[name]) is None else convert(value)
        for name, convert in converters
    }


def _fast_converter(field: serializers.Field, zone):
    if isinstance(field, QuantityField):
        return field.to_representation
    if isinstance(field, serializers.DecimalField):
        exponent = Decimal(1).scaleb(-field.decimal_places)
        if field.decimal_places <= 6:
            # At an exponent of -6 or above, str() never switches to scientific
            # notation, so it equals format(…, "f") at a third of the cost.
            return lambda value: str(Decimal(value).quantize(exponent))
        return lambda value: format(Decimal(value).quantize(exponent), "f")
    if isinstance(field, serializers.ChoiceField | serializers.CharField):
        return str
    if isinstance(field, serializers.IntegerField):
        return int
    if isinstance(field, serializers.FloatField):
        return float
    if isinstance(field, serializers.DateTimeField):
        return _datetime_converter(field, zone)
    if isinstance(field, serializers.DateField):
        return lambda value: value.isoformat()
    return field.to_representation


def _datetime_converter(field: serializers.DateTimeField, zone):
    """DRF's ISO 8601 output of an aware datetime in `zone`, without its per-value lookups."""
    default_output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if hasattr(field, "timezone") or zone is None or default_output.lower() != ISO_8601:
        return field.to_representation

    def convert(value):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            return field.to_representation(value)  # a string, or naive: DRF's own rules
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


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
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Required (true) to delete a synced portfolio: its account is then "
        "skipped by future syncs until the broker is reconnected.",
    )


# Positions -------------------------------------------------------------------


@extend_schema_serializer(component_name="Position")
class PositionOutput(DictOutputSerializer):
    """One leg (DESIGN.md §11 "a position"), plus dte, average_open_price and iv_status."""

    id = serializers.IntegerField(read_only=True)
    portfolio_id = serializers.IntegerField(read_only=True)
    symbol = serializers.CharField(
        read_only=True, help_text="Broker symbol; OCC (21 characters) for equity options."
    )
    underlying_symbol = serializers.CharField(read_only=True)
    instrument_type = serializers.ChoiceField(choices=InstrumentType.choices, read_only=True)
    option_type = serializers.ChoiceField(
        choices=OptionType.choices,
        read_only=True,
        allow_null=True,
        help_text="C (call), P (put), or null for stock and futures.",
    )
    strike_price = serializers.DecimalField(
        **PRICE, read_only=True, allow_null=True, help_text=HELP["strike_price"]
    )
    expiration_date = serializers.DateField(
        read_only=True, allow_null=True, help_text=HELP["expiration_date"]
    )
    dte = serializers.IntegerField(read_only=True, allow_null=True, help_text=HELP["dte"])
    open_date = serializers.DateField(read_only=True, allow_null=True, help_text=HELP["open_date"])
    quantity = QuantityField(read_only=True, help_text=HELP["quantity"] + " A JSON number.")
    multiplier = serializers.IntegerField(read_only=True, help_text=HELP["multiplier"])
    strategy_type = serializers.ChoiceField(
        choices=STRATEGY_CHOICES, read_only=True, help_text=HELP["strategy_type"]
    )
    strategy_group_id = serializers.CharField(read_only=True, help_text=HELP["strategy_group_id"])
    average_open_price = serializers.DecimalField(
        **PRICE, read_only=True, allow_null=True, help_text=HELP["average_open_price"]
    )
    mark = serializers.DecimalField(
        **PRICE, read_only=True, allow_null=True, help_text=HELP["mark"]
    )
    previous_close = serializers.DecimalField(
        **PRICE, read_only=True, allow_null=True, help_text=HELP["previous_close"]
    )
    underlying_price = serializers.DecimalField(
        **PRICE, read_only=True, allow_null=True, help_text=HELP["underlying_price"]
    )
    implied_volatility = serializers.FloatField(
        read_only=True, allow_null=True, help_text=HELP["implied_volatility"]
    )
    iv_status = serializers.CharField(
        read_only=True,
        help_text="Why the leg has or lacks an implied volatility (e.g. solved, no_quote); "
        "empty when not priced yet.",
    )
    greeks_source = serializers.ChoiceField(
        choices=GreeksSource.choices,
        read_only=True,
        help_text="implied: IV solved from the mark; market_iv: the broker's IV; none: not priced.",
    )
    beta = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["beta"])
    premium_received = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=HELP["premium_received"]
    )
    current_value = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=HELP["current_value"]
    )
    unrealized_pnl = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=HELP["unrealized_pnl"]
    )
    fees_since_open = serializers.DecimalField(
        **MONEY, read_only=True, help_text=HELP["fees_since_open"]
    )
    pnl_open = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=HELP["pnl_open"]
    )
    pnl_day = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text=HELP["pnl_day"]
    )
    delta = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["delta"])
    gamma = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["gamma"])
    theta = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["theta"])
    vega = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["vega"])
    updated_at = serializers.DateTimeField(read_only=True)


def position_updated_at_writer():
    """How the positions page writes `updated_at` for this request (see position_pages).

    In UTC with DRF's ISO 8601 (the API's settings), PostgreSQL formats it;
    in any other time zone, the serializer's own converter does.
    """
    field = PositionOutput._declared_fields["updated_at"]
    iso = getattr(field, "format", None) in (None, ISO_8601) and (
        api_settings.DATETIME_FORMAT.lower() == ISO_8601
    )
    if iso and settings.USE_TZ and timezone.get_current_timezone_name() == "UTC":
        return UPDATED_AT_UTC
    return PositionOutput.converter_of("updated_at")


POSITION_OUTPUT_KEYS = frozenset(PositionOutput().fields)
POSITION_PART_HELP = " Give it with the other parts when `symbol` is left out."


class PositionCreateInput(StrictInputSerializer):
    """A leg of a manual portfolio: `symbol`, or its parts; prices optional."""

    read_only_keys = POSITION_OUTPUT_KEYS - {
        "symbol",
        "underlying_symbol",
        "instrument_type",
        "option_type",
        "strike_price",
        "expiration_date",
        "open_date",
        "quantity",
        "multiplier",
        "strategy_type",
        "strategy_group_id",
        "average_open_price",
        "mark",
        "underlying_price",
        "implied_volatility",
        "beta",
    }

    symbol = serializers.CharField(
        max_length=64,
        required=False,
        help_text="OCC option symbol ('AAPL  260116P00172500', padded or not), a ticker "
        "('SPY'), a future ('/ESZ5') or a futures option ('./ESZ4 EW3U4 240920P5650'). "
        "Leave it out to give the parts instead.",
    )
    instrument_type = serializers.ChoiceField(
        choices=InstrumentType.choices,
        required=False,
        help_text="Inferred from the symbol or parts when left out.",
    )
    underlying_symbol = serializers.CharField(
        max_length=32,
        required=False,
        help_text="Underlying ticker; for an option given by symbol, overrides the OCC root "
        "(SPXW options on SPX)." + POSITION_PART_HELP,
    )
    expiration_date = serializers.DateField(
        required=False, allow_null=True, help_text=HELP["expiration_date"] + POSITION_PART_HELP
    )
    option_type = serializers.ChoiceField(
        choices=OptionType.choices,
        required=False,
        allow_null=True,
        help_text="C or P." + POSITION_PART_HELP,
    )
    strike_price = serializers.DecimalField(
        **PRICE,
        required=False,
        allow_null=True,
        help_text="Strike in $ per share, > 0, at most 3 decimals." + POSITION_PART_HELP,
    )
    quantity = QuantityField(help_text=HELP["quantity"] + " Not zero.")
    multiplier = serializers.IntegerField(
        min_value=1,
        max_value=MAX_MULTIPLIER,
        required=False,
        help_text=HELP["multiplier"] + " Defaults to 100 for equity options and 1 for stock; "
        "required for futures.",
    )
    average_open_price = serializers.DecimalField(
        **PRICE,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        help_text=HELP["average_open_price"],
    )
    mark = serializers.DecimalField(
        **PRICE, min_value=Decimal(0), required=False, allow_null=True, help_text=HELP["mark"]
    )
    underlying_price = serializers.DecimalField(
        **PRICE, required=False, allow_null=True, help_text=HELP["underlying_price"] + " > 0."
    )
    implied_volatility = serializers.FloatField(
        min_value=0.0,
        max_value=MAX_IMPLIED_VOLATILITY,
        required=False,
        allow_null=True,
        help_text=HELP["implied_volatility"] + " At most 10 (1000 %). Your estimate: the "
        "leg is priced with the IV its mark implies when mark and underlying_price give "
        "one, else with this; the response shows the IV used.",
    )
    beta = serializers.FloatField(required=False, allow_null=True, help_text=HELP["beta"])
    open_date = serializers.DateField(required=False, allow_null=True, help_text=HELP["open_date"])
    strategy_type = serializers.ChoiceField(
        choices=STRATEGY_CHOICES,
        required=False,
        help_text="A hint: strategy detection regroups the book after every change and "
        "overrides it where installed.",
    )
    strategy_group_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="A hint, like strategy_type.",
    )

    def validate_quantity(self, value: Decimal) -> Decimal:
        if value == 0:
            raise serializers.ValidationError("Must not be zero; a short position is negative.")
        return value

    def validate_strike_price(self, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        return value

    def validate_underlying_price(self, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        return value


class PositionUpdateInput(PositionCreateInput):
    """PATCH a manual leg: quantity, prices and hints; its contract cannot change."""

    read_only_keys = POSITION_OUTPUT_KEYS
    immutable_keys = (
        "symbol",
        "instrument_type",
        "underlying_symbol",
        "expiration_date",
        "option_type",
        "strike_price",
    )

    def get_fields(self):
        fields = super().get_fields()
        for name in self.immutable_keys:
            fields.pop(name)
        fields["quantity"].required = False
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            immutable = [key for key in self.immutable_keys if key in data]
            if immutable:
                raise serializers.ValidationError(
                    {
                        key: ["Cannot change the contract of a leg: delete it and add a new one."]
                        for key in immutable
                    }
                )
        return super().to_internal_value(data)


# Positions: query ------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class CommaSeparatedField(serializers.Field):
    """A comma list in one query parameter ("SPY,QQQ"), optionally limited to choices."""

    def __init__(self, *, choices=None, upper: bool = False, **kwargs):
        self.choices = list(choices) if choices is not None else None
        self.upper = upper
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a comma-separated list.")
        items = tuple(item.strip() for item in data.split(",") if item.strip())
        if self.upper:
            items = tuple(item.upper() for item in items)
        if self.choices is not None:
            bad = [item for item in items if item not in self.choices]
            if bad:
                raise serializers.ValidationError(
                    f"Unknown value(s) {', '.join(bad)}; use one of: {', '.join(self.choices)}."
                )
        return items

    def to_representation(self, value):
        return ",".join(value)


ORDERING_CHOICES = sorted(POSITION_ORDERING_FIELDS)


class PositionListQuery(serializers.Serializer):
    """Query parameters of the positions list (and its CSV)."""

    underlying = CommaSeparatedField(
        upper=True,
        required=False,
        help_text="Only legs on these underlyings, comma-separated (e.g. SPY,QQQ).",
    )
    strategy_type = CommaSeparatedField(
        choices=[value for value, _ in STRATEGY_CHOICES],
        required=False,
        help_text="Only legs of these strategy types, comma-separated.",
    )
    instrument_type = CommaSeparatedField(
        choices=InstrumentType.values,
        required=False,
        help_text="Only these instrument types, comma-separated: Equity, Equity Option, "
        "Future, Future Option.",
    )
    expiring_within_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_EXPIRING_WITHIN_DAYS,
        required=False,
        help_text="Only legs expiring within this many calendar days of today (New York), "
        "already-expired legs still held included; stock and futures are left out. ≥ 0.",
    )
    ordering = CommaSeparatedField(
        choices=ORDERING_CHOICES + [f"-{key}" for key in ORDERING_CHOICES],
        required=False,
        help_text="Sort keys, comma-separated, `-` for descending (nulls last either way): "
        + ", ".join(ORDERING_CHOICES)
        + ". Default: underlying_symbol, expiration_date, strike_price, symbol.",
    )

    @classmethod
    def filters_from(cls, query_params) -> PositionFilters:
        """Validate the list's query parameters (400 naming the field) into filters."""
        if not any(name in query_params for name in cls._declared_fields):
            return PositionFilters()  # the usual request: nothing to validate
        query = cls(data=query_params)
        query.is_valid(raise_exception=True)
        return query.to_filters()

    def to_filters(self) -> PositionFilters:
        data = self.validated_data
        return PositionFilters(
            underlyings=data.get("underlying", ()),
            strategy_types=data.get("strategy_type", ()),
            instrument_types=data.get("instrument_type", ()),
            expiring_within_days=data.get("expiring_within_days"),
            ordering=data.get("ordering", ()),
        )


# Strategies ------------------------------------------------------------------


@extend_schema_serializer(component_name="StrategyGroup")
class StrategyGroupOutput(DictOutputSerializer):
    group_id = serializers.CharField(
        read_only=True, help_text="strategy_group_id of its legs, or leg-<id> for a lone leg."
    )
    strategy_type = serializers.ChoiceField(choices=STRATEGY_CHOICES, read_only=True)
    underlying_symbol = serializers.CharField(read_only=True)
    legs_count = serializers.IntegerField(read_only=True)
    net_credit = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ premium_received of the legs in $ (credit > 0, debit < 0); null when a "
        "leg's opening price is unknown.",
    )
    current_value = serializers.DecimalField(
        **MONEY, read_only=True, allow_null=True, help_text="Σ current_value in $."
    )
    unrealized_pnl = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="net_credit + current_value in $ (profit > 0); null when unknown.",
    )
    fees_since_open = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ fees_since_open of the legs in $ (≥ 0 paid).",
    )
    pnl_open = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ pnl_open in $: net_credit + current_value − fees since open (profit > 0); "
        "null when a leg's is unknown.",
    )
    pnl_day = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Σ pnl_day in $: change of value against the broker's previous close "
        "(profit > 0); null when a leg has no previous close.",
    )
    percent_of_max_profit = serializers.DecimalField(
        max_digits=9,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="unrealized_pnl / max_profit in % (50.0 = half the max profit captured), "
        "for credit and defined-risk groups; null otherwise.",
    )
    max_profit = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Best P/L at expiry in $ for the whole group; null when unbounded, not "
        "fixed by the expiry payoff, or not computed.",
    )
    max_loss = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Worst loss at expiry in $ (> 0 is a loss); null when unbounded or not computed.",
    )
    undefined_risk = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="True when the loss is unbounded or uncovered (naked short options, "
        "futures); null when strategy detection did not evaluate the group.",
    )
    expiration_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="Nearest expiry of the group's legs."
    )
    dte = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Calendar days to the nearest expiry (New York); null for stock or futures.",
    )
    delta = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Σ delta in share-equivalents."
    )
    gamma = serializers.FloatField(read_only=True, allow_null=True, help_text="Σ gamma.")
    theta = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Σ theta in $ per calendar day."
    )
    vega = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Σ vega in $ per +1 vol point."
    )
    legs = PositionOutput(many=True, read_only=True)
