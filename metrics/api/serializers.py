"""Shapes of the metrics API; units and signs live in help_text (DESIGN.md §5, §11).

Money is a decimal string in $; greeks, fractions and counts are numbers.
Input serializers check shape and one field's range; rules across fields live
in metrics.selectors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from rest_framework import serializers

from portfolios.api.serializers import RHO_SIGNS
from thetavue_site.api.serializers import StrictInputSerializer
from thetavue_site.api_input import BoundedDateField

MONEY = {"max_digits": 20, "decimal_places": 2}
PRICE = {"max_digits": 18, "decimal_places": 6}

MAX_UNDERLYING_MOVES = 41
MAX_IV_SHIFTS = 21
MIN_MOVE_PCT, MAX_MOVE_PCT = -95.0, 500.0
MIN_IV_SHIFT_POINTS, MAX_IV_SHIFT_POINTS = -100.0, 500.0
MAX_DAYS_FORWARD = 3650

HELP = {
    "delta": "Delta in share-equivalents: Σ Δ × quantity × multiplier over priced legs "
    "(a short put adds > 0).",
    "gamma": "Gamma: change of delta (share-equivalents) per $1 move of each underlying.",
    "theta": "Theta in $ per calendar day (short premium > 0).",
    "vega": "Vega in $ per +1 vol point of implied volatility.",
    "rho": "Rho in $ per +1 percentage point of the risk-free rate: Σ ρ × quantity × "
    f"multiplier over priced legs. {RHO_SIGNS}",
    "iv_rank": "The broker's IV rank of the underlying (market metrics "
    "implied-volatility-index-rank): where today's IV index sits in its 52-week low-high "
    "range, a fraction 0-1; null when the broker gave none.",
    "iv_percentile": "The broker's IV percentile of the underlying (market metrics "
    "implied-volatility-percentile): the share of the past year's days with a lower IV, a "
    "fraction 0-1; not the same number as iv_rank; null when the broker gave none.",
    "beta_weighted_delta": "Beta-weighted delta in SPY share-equivalents: "
    "Σ delta × beta × underlying price / SPY price; null without a SPY price.",
    "unrealized_pnl": "Unrealised P/L in $ (decimal string): Σ premium_received + "
    "current_value over legs with both; profit > 0.",
    "pnl_open": "P/L since open in $ (decimal string): Σ premium_received + current_value "
    "− fees since open over legs with a value; profit > 0; null when no leg has one.",
    "pnl_day": "P/L today in $ (decimal string): Σ change of current_value against the "
    "broker's previous close (a leg opened today: against its open price); fees excluded; "
    "null when no leg has a previous close (see legs_without_pnl_day).",
    "fees_since_open": "Commissions and fees paid since each leg opened, in $ (≥ 0).",
    "legs_without_pnl_day": "Legs without a previous close: left out of pnl_day.",
    "legs": "Legs counted.",
    "legs_unpriced": "Legs without stored greeks: left out of the greek totals, never "
    "counted as zero.",
    "legs_beta_missing": "Priced legs without a beta (or underlying price), left out of "
    "beta-weighted delta.",
}


class BreakdownFields(serializers.Serializer):
    delta = serializers.FloatField(help_text=HELP["delta"])
    gamma = serializers.FloatField(help_text=HELP["gamma"])
    theta = serializers.FloatField(help_text=HELP["theta"])
    vega = serializers.FloatField(help_text=HELP["vega"])
    rho = serializers.FloatField(help_text=HELP["rho"])
    beta_weighted_delta = serializers.FloatField(
        allow_null=True, help_text=HELP["beta_weighted_delta"]
    )
    unrealized_pnl = serializers.DecimalField(**MONEY, help_text=HELP["unrealized_pnl"])
    pnl_open = serializers.DecimalField(**MONEY, allow_null=True, help_text=HELP["pnl_open"])
    pnl_day = serializers.DecimalField(**MONEY, allow_null=True, help_text=HELP["pnl_day"])
    fees_since_open = serializers.DecimalField(**MONEY, help_text=HELP["fees_since_open"])
    legs_without_pnl_day = serializers.IntegerField(help_text=HELP["legs_without_pnl_day"])
    legs = serializers.IntegerField(help_text=HELP["legs"])
    legs_unpriced = serializers.IntegerField(help_text=HELP["legs_unpriced"])
    legs_beta_missing = serializers.IntegerField(help_text=HELP["legs_beta_missing"])


class UnderlyingBreakdownOutput(BreakdownFields):
    underlying = serializers.CharField(help_text="Underlying symbol (e.g. SPY, /ES).")
    iv_rank = serializers.FloatField(allow_null=True, help_text=HELP["iv_rank"])
    iv_percentile = serializers.FloatField(allow_null=True, help_text=HELP["iv_percentile"])
    buying_power_used = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Σ Reg-T buying-power reduction of the underlying's strategy groups in $ "
        "(decimal string); null when a group's is unknown.",
    )
    buying_power_fraction = serializers.FloatField(
        allow_null=True,
        help_text="buying_power_used / net liq as a fraction (0.05 = 5 %); null without both.",
    )


class StrategyBreakdownOutput(BreakdownFields):
    group_id = serializers.CharField(
        help_text='Strategy group id; "position-<id>" for a leg outside any group.'
    )
    strategy_type = serializers.CharField(help_text="Detected strategy, e.g. short_put.")
    underlying = serializers.CharField(help_text="Underlying symbol of the group's first leg.")
    buying_power_used = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Buying-power reduction of this group by Tastytrade's rules in $ (decimal "
        "string): requirement − premium received at open; null for shapes the rules do not "
        "cover, legs without a price, and portfolio-margin accounts.",
    )
    buying_power_requirement = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Margin requirement of this group at the current marks in $ (decimal "
        "string, ≥ 0); null where buying_power_used is.",
    )


class NetLiqReconciliationOutput(serializers.Serializer):
    ours = serializers.DecimalField(
        **MONEY, help_text="Cash balance + Σ current_value of the legs, in $ (decimal string)."
    )
    broker = serializers.DecimalField(
        **MONEY, help_text="The broker's net liquidating value at the last sync, in $."
    )
    difference = serializers.DecimalField(**MONEY, help_text="ours − broker, in $.")
    difference_fraction = serializers.FloatField(
        allow_null=True,
        help_text="(ours − broker) / |broker| as a fraction (0.005 = 0.5 %); null when the "
        "broker's figure is zero.",
    )
    flagged = serializers.BooleanField(help_text="True when |difference_fraction| > 0.5 %.")


class UnsupportedLegOutput(serializers.Serializer):
    symbol = serializers.CharField(help_text="The broker's symbol, as sent.")
    instrument_type = serializers.CharField(help_text="The broker's instrument type, as sent.")
    quantity = serializers.CharField(help_text="Signed quantity as a decimal string.")
    reason = serializers.CharField(help_text="Why the leg is kept out of the book.")


class PortfolioMetricsOutput(serializers.Serializer):
    portfolio_id = serializers.IntegerField()
    portfolio_name = serializers.CharField()
    account_type = serializers.CharField(help_text="margin, cash, ira, portfolio_margin or manual.")
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the figures were produced: the last sync, or for a manual portfolio "
        "its last change or re-price; null if never synced.",
    )
    sync_version = serializers.IntegerField(
        help_text="The portfolio's write version these figures belong to."
    )
    net_liquidation_value = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Net liquidating value in $ (decimal string)."
    )
    spy_price = serializers.DecimalField(
        **PRICE,
        allow_null=True,
        help_text="SPY price in $ used for beta weighting: the last sync's, else a SPY leg's "
        "underlying price; null if neither.",
    )
    total_delta = serializers.FloatField(help_text=HELP["delta"])
    total_gamma = serializers.FloatField(help_text=HELP["gamma"])
    total_theta = serializers.FloatField(help_text=HELP["theta"])
    total_vega = serializers.FloatField(help_text=HELP["vega"])
    total_rho = serializers.FloatField(help_text=HELP["rho"])
    beta_weighted_delta = serializers.FloatField(
        allow_null=True, help_text=HELP["beta_weighted_delta"]
    )
    beta_weighted_delta_dollars = serializers.FloatField(
        allow_null=True,
        help_text="Beta-weighted delta in $ of SPY exposure: SPY shares × SPY price (a number; "
        "> 0 is long the market).",
    )
    theta_over_net_liq = serializers.FloatField(
        allow_null=True,
        help_text="total_theta / net liq as a fraction per day (0.001 = 0.1 %); null without "
        "a positive net liq.",
    )
    buying_power_used = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Buying power in use in $ (decimal string): the broker's maintenance "
        "requirement for a synced account, else buying_power_reduction; null for a "
        "portfolio-margin account the broker gave no figure for.",
    )
    buying_power_source = serializers.ChoiceField(
        choices=["broker", "reg_t", "estimate"],
        allow_null=True,
        help_text='Where buying_power_used comes from; "estimate" when futures groups '
        "(SPAN margined) were estimated by the Reg-T rules.",
    )
    buying_power_requirement = serializers.DecimalField(
        **MONEY,
        help_text="Σ of the groups' margin requirements by Tastytrade's rules at the current "
        "marks, in $ (decimal string, ≥ 0).",
    )
    buying_power_reduction = serializers.DecimalField(
        **MONEY,
        help_text="Σ of the groups' buying-power reductions in $ (decimal string): each "
        "group's requirement − premium received at open, constant for a defined-risk trade.",
    )
    buying_power_estimated_groups = serializers.IntegerField(
        help_text="Futures groups whose figures are estimates (no broker figure per group)."
    )
    buying_power_unsupported_groups = serializers.IntegerField(
        help_text="Strategy groups whose Reg-T requirement could not be computed (shape not "
        "covered, a leg without a price); left out of a reg_t total."
    )
    buying_power_available = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Derivative buying power still available per the broker, in $ (decimal "
        "string); null for manual portfolios and before the first sync.",
    )
    unrealized_pnl = serializers.DecimalField(**MONEY, help_text=HELP["unrealized_pnl"])
    pnl_open = serializers.DecimalField(**MONEY, allow_null=True, help_text=HELP["pnl_open"])
    pnl_day = serializers.DecimalField(**MONEY, allow_null=True, help_text=HELP["pnl_day"])
    fees_since_open = serializers.DecimalField(**MONEY, help_text=HELP["fees_since_open"])
    legs_without_pnl_day = serializers.IntegerField(help_text=HELP["legs_without_pnl_day"])
    legs = serializers.IntegerField(help_text="Legs in the portfolio.")
    legs_unpriced = serializers.IntegerField(help_text=HELP["legs_unpriced"])
    legs_unsupported = UnsupportedLegOutput(
        many=True,
        help_text="Broker legs the last sync could not read or price (unknown instrument "
        "type, unparseable symbol, no mark, zero multiplier): left out of every total.",
    )
    legs_beta_missing = serializers.IntegerField(help_text=HELP["legs_beta_missing"])
    legs_expired = serializers.IntegerField(
        help_text="Options past their expiry the broker still lists: left out of the greek "
        "totals and buying power until it removes them."
    )
    legs_beta_assumed = serializers.IntegerField(
        help_text="Legs on SPY, /ES or /MES without a beta, weighted with beta 1.0."
    )
    legs_without_value = serializers.IntegerField(
        help_text="Legs without premium_received or current_value: left out of unrealized_pnl."
    )
    by_underlying = UnderlyingBreakdownOutput(many=True)
    by_strategy = StrategyBreakdownOutput(many=True)
    net_liq_reconciliation = NetLiqReconciliationOutput(
        allow_null=True,
        help_text="Our net liq (cash + legs) against the broker's; null for manual portfolios, "
        "books with futures, legs without a value, or before the first sync.",
    )


# History -----------------------------------------------------------------------


class HistoryQueryInput(StrictInputSerializer):
    # `from` and `to` are Python keywords, hence fields built here, not declared.
    def get_fields(self):
        return {
            "from": BoundedDateField(
                required=False,
                help_text="First New York date, YYYY-MM-DD (default: 365 days before `to`).",
            ),
            "to": BoundedDateField(
                required=False,
                help_text="Last New York date, YYYY-MM-DD (default: today in New York). The "
                "range may span at most 3660 days.",
            ),
        }


class HistoryRowOutput(serializers.Serializer):
    date = serializers.DateField(help_text="New York trading date of the nightly snapshot.")
    net_liquidation_value = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Net liquidating value in $ (decimal string)."
    )
    net_liq_change = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Change of net liq in $ since the previous row of the range; null for the "
        "first row or when either value is unknown.",
    )
    total_delta = serializers.FloatField(allow_null=True, help_text=HELP["delta"])
    total_gamma = serializers.FloatField(allow_null=True, help_text=HELP["gamma"])
    total_theta = serializers.FloatField(allow_null=True, help_text=HELP["theta"])
    total_vega = serializers.FloatField(allow_null=True, help_text=HELP["vega"])
    beta_weighted_delta = serializers.FloatField(
        allow_null=True, help_text=HELP["beta_weighted_delta"]
    )
    legs_unpriced = serializers.IntegerField(help_text=HELP["legs_unpriced"])
    backfilled = serializers.BooleanField(
        help_text="True for net liq taken from the broker's balance snapshots before "
        "ThetaVue measured the book: no greeks on that row."
    )


class HistoryOutput(serializers.Serializer):
    # `from` and `to` echo the range under the query's own names (Python keywords).
    def get_fields(self):
        return {
            "portfolio_id": serializers.IntegerField(),
            "from": serializers.DateField(help_text="First New York date of the range."),
            "to": serializers.DateField(help_text="Last New York date of the range."),
            "count": serializers.IntegerField(help_text="Rows returned."),
            "results": HistoryRowOutput(
                many=True, help_text="One row per snapshot date, oldest first."
            ),
        }


# What-if -----------------------------------------------------------------------


class JsonNumberField(serializers.FloatField):
    """A finite JSON number: strings, booleans, NaN and infinities are refused."""

    default_error_messages = {
        "invalid": "A number is required.",
        "not_finite": "Must be a finite number.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            value = float(data)
        except OverflowError:
            self.fail("not_finite")
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


class JsonIntegerField(serializers.IntegerField):
    """A JSON integer (3 or 3.0): strings, booleans and fractions are refused."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not (math.isfinite(data) and data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(int(data))


class NumberListField(serializers.ListField):
    """A list of numbers whose item errors name the index inside the field's own message."""

    def run_child_validation(self, data):
        values = []
        for index, item in enumerate(data):
            try:
                values.append(self.child.run_validation(item))
            except serializers.ValidationError as error:
                reasons = error.detail if isinstance(error.detail, list) else [error.detail]
                raise serializers.ValidationError(
                    [f"Item {index}: {reason}" for reason in reasons]
                ) from None
        return values


class WhatIfInput(StrictInputSerializer):
    underlying_moves_pct = NumberListField(
        child=JsonNumberField(min_value=MIN_MOVE_PCT, max_value=MAX_MOVE_PCT),
        min_length=1,
        max_length=MAX_UNDERLYING_MOVES,
        help_text=f"Moves of every underlying in % (−10 = down 10 %), each from {MIN_MOVE_PCT:g} "
        f"to {MAX_MOVE_PCT:g}; 1 to {MAX_UNDERLYING_MOVES} of them.",
    )
    iv_shift_points = NumberListField(
        child=JsonNumberField(min_value=MIN_IV_SHIFT_POINTS, max_value=MAX_IV_SHIFT_POINTS),
        min_length=1,
        max_length=MAX_IV_SHIFTS,
        default=[0.0],
        help_text="Shifts of every option's implied volatility in vol points (+5 = 25 % → "
        f"30 %), each from {MIN_IV_SHIFT_POINTS:g} to {MAX_IV_SHIFT_POINTS:g}; 1 to "
        f"{MAX_IV_SHIFTS} of them (default [0]). Volatility is floored at 0.01 %.",
    )
    days_forward = JsonIntegerField(
        min_value=0,
        max_value=MAX_DAYS_FORWARD,
        default=0,
        help_text=f"Calendar days to move time forward, 0 to {MAX_DAYS_FORWARD} (default 0); "
        "options expiring by then are worth their intrinsic value.",
    )

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = {key: ["Unknown field."] for key in data if key not in self.fields}
            if unknown:
                raise serializers.ValidationError(unknown)
        return super().to_internal_value(data)


class WhatIfScenarioOutput(serializers.Serializer):
    underlying_move_pct = serializers.FloatField(help_text="Move of every underlying, %.")
    iv_shift_points = serializers.FloatField(help_text="Shift of implied volatility, points.")
    value = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Model value of the priced legs in $ (decimal string; shorts < 0).",
    )
    pnl = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="value − model_value in $ (decimal string): profit > 0.",
    )
    delta = serializers.FloatField(help_text=HELP["delta"])
    gamma = serializers.FloatField(help_text=HELP["gamma"])
    theta = serializers.FloatField(help_text=HELP["theta"])
    vega = serializers.FloatField(help_text=HELP["vega"])


class GroupLegOutput(serializers.Serializer):
    position_id = serializers.IntegerField()
    quantity = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        help_text="Contracts or shares of the leg in this group, signed (short < 0).",
    )


class BookGroupOutput(serializers.Serializer):
    group_id = serializers.CharField(help_text="The same id the strategies endpoint shows.")
    strategy_type = serializers.CharField(help_text="Detected strategy, e.g. short_put.")
    underlying_symbol = serializers.CharField()
    legs = GroupLegOutput(many=True, help_text="The part of each leg the group holds.")
    buying_power_requirement = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Margin requirement at the current marks, $."
    )
    buying_power_reduction = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Requirement − premium received at open, $ (the metrics' figure).",
    )


class WhatIfOutput(serializers.Serializer):
    portfolio_id = serializers.IntegerField()
    as_of = serializers.DateTimeField(
        help_text="The pricing time: the metrics' as_of (when the marks were taken)."
    )
    days_forward = serializers.IntegerField(help_text="Calendar days after as_of.")
    underlying_moves_pct = serializers.ListField(child=serializers.FloatField())
    iv_shift_points = serializers.ListField(child=serializers.FloatField())
    model_value = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Today's model value of the priced legs in $ (decimal string): the base "
        "every pnl is measured from.",
    )
    legs = serializers.IntegerField(help_text="Legs in the portfolio.")
    legs_unpriced = serializers.IntegerField(
        help_text="Legs that could not be priced (no mark/IV or underlying price): left out "
        "of every scenario."
    )
    buying_power_used = serializers.DecimalField(
        **MONEY,
        allow_null=True,
        help_text="Buying power in use today in $, the metrics endpoint's figure.",
    )
    buying_power_source = serializers.ChoiceField(
        choices=["broker", "reg_t", "estimate"], allow_null=True
    )
    groups = BookGroupOutput(many=True, help_text="The book's strategy groups today.")
    scenarios = WhatIfScenarioOutput(
        many=True,
        help_text="One cell per (move, shift), moves outer, both in the order given.",
    )
