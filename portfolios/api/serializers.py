"""Shapes of the position and strategy API; the portfolio resource's are in
portfolio_serializers.py. Units and signs live in help_text (DESIGN.md §5, §11).

Output serializers read plain values (model instances or `.values()` dicts);
input serializers check shape and one field's range only, and refuse unknown
keys so a typo is a 400 naming the field instead of a silent no-op. Rules
across fields and rows live in portfolios.services.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from metrics.exercise import ExerciseStyleSource
from portfolios.models import ExerciseStyle, GreeksSource, InstrumentType, OptionType
from portfolios.position_pages import UPDATED_AT_UTC
from portfolios.selectors import POSITION_ORDERING_FIELDS, PositionFilters
from portfolios.strategy_types import STRATEGY_CHOICES
from thetavue_site.api.serializers import (
    DictOutputSerializer,
    MultiplierField,
    QuantityField,
    StrictInputSerializer,
)
from thetavue_site.api_input import BoundedDateField

MONEY = {"max_digits": 18, "decimal_places": 2}
PRICE = {"max_digits": 18, "decimal_places": 6}
MAX_MULTIPLIER = 1_000_000
MAX_IMPLIED_VOLATILITY = 10.0  # 1000 %: above that it is a percentage typed as a fraction
MAX_EXPIRING_WITHIN_DAYS = 36_500

# Rho's sign depends on the model: Black-Scholes-Merton's dV/dr is K T e^{-rT} N(±d2)
# (calls gain from a higher rate), while Black-76 holds the futures price fixed, so
# a higher rate only discounts the premium more: dV/dr = -T V.
RHO_SIGNS = (
    "Sign: equity and index options, a long call is > 0 and a long put < 0; futures "
    "options (Black-76, the futures price held fixed) −T × price / 100 per unit, so "
    "≤ 0 for any long futures option, call or put."
)

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
    "rho": "Position rho in $ per +1 percentage point of the risk-free rate: "
    f"ρ × quantity × multiplier. {RHO_SIGNS} Null when not priced.",
    "exercise_style": "American or European (the model that priced the leg: "
    "QD+ exercise boundary with its early-exercise premium, or Black-Scholes-Merton / "
    "Black-76; continuous dividend yield; "
    "discrete dividends are not modelled); an empty string for stock and futures.",
    "exercise_style_source": "Where a synced option's exercise_style came from: `broker` "
    "(the broker's instrument data says so) or `table` (ThetaVue's table of listings, for a "
    "symbol the broker did not answer; asked again at the next sync); an empty string for "
    "manual legs, stock and futures.",
    "iv_rank": "The underlying's IV rank from the broker's market metrics: where today's IV "
    "index sits in its 52-week low-high range, a fraction 0-1; null if none.",
    "iv_percentile": "The underlying's IV percentile from the broker's market metrics: the "
    "share of the past year's days with a lower IV, a fraction 0-1 (not the same number as "
    "iv_rank); null if none.",
    "strategy_type": "Strategy this leg belongs to, as set by strategy detection.",
    "strategy_group_id": "Legs with the same id form one strategy; empty when ungrouped.",
    "dte": "Calendar days from today (New York) to expiration; negative once expired, "
    "null for stock and futures.",
}


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
    multiplier = MultiplierField(
        read_only=True, help_text=HELP["multiplier"] + ' A decimal string: /MYM is "0.5".'
    )
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
        help_text="implied: IV solved from the mark; market_iv: the broker's IV; intrinsic: "
        "expired, or no IV from the mark or the broker (delta ±1 per unit in the money, 0 out, "
        "other greeks 0); linear: stock or future; none: not priced.",
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
    rho = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["rho"])
    exercise_style = serializers.ChoiceField(
        choices=ExerciseStyle.choices,
        allow_blank=True,
        read_only=True,
        help_text=HELP["exercise_style"],
    )
    exercise_style_source = serializers.ChoiceField(
        choices=[source.value for source in ExerciseStyleSource],
        allow_blank=True,
        read_only=True,
        help_text=HELP["exercise_style_source"],
    )
    iv_rank = serializers.FloatField(read_only=True, allow_null=True, help_text=HELP["iv_rank"])
    iv_percentile = serializers.FloatField(
        read_only=True, allow_null=True, help_text=HELP["iv_percentile"]
    )
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
    expiration_date = BoundedDateField(
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
    multiplier = MultiplierField(
        min_value=Decimal("0.000001"),
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
    open_date = BoundedDateField(required=False, allow_null=True, help_text=HELP["open_date"])
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


class PositionListQuery(StrictInputSerializer):
    """Query parameters of the positions list (and its CSV); an unknown key is a 400."""

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

    @staticmethod
    def to_filters(data: Mapping) -> PositionFilters:
        """The filters of a validated query (an empty one lists every leg)."""
        return PositionFilters(
            underlyings=data.get("underlying", ()),
            strategy_types=data.get("strategy_type", ()),
            instrument_types=data.get("instrument_type", ()),
            expiring_within_days=data.get("expiring_within_days"),
            ordering=data.get("ordering", ()),
        )


# Strategies ------------------------------------------------------------------


class GroupLegQuantityOutput(DictOutputSerializer):
    position_id = serializers.IntegerField(read_only=True)
    quantity = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        read_only=True,
        help_text="Contracts or shares of the leg in this group, signed (short < 0).",
    )


@extend_schema_serializer(component_name="StrategyGroup")
class StrategyGroupOutput(DictOutputSerializer):
    group_id = serializers.CharField(
        read_only=True,
        help_text="strategy_group_id its legs carry (the group holding most of each leg), "
        "else detection's id.",
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
    leg_quantities = GroupLegQuantityOutput(
        many=True,
        read_only=True,
        help_text="The signed quantity of each leg this group holds: a leg may be split "
        "across groups (3 short puts: 2 in a strangle, 1 short put).",
    )
    buying_power_requirement = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Margin requirement by Tastytrade's rules at the current marks, in $; null "
        "where the rules do not cover the group or the account is portfolio margin.",
    )
    buying_power_reduction = serializers.DecimalField(
        **MONEY,
        read_only=True,
        allow_null=True,
        help_text="Buying-power reduction in $: requirement − premium received at open "
        "(constant for a defined-risk group); null where the requirement is.",
    )
    legs = PositionOutput(many=True, read_only=True)
