"""Typed results of the Tastytrade client: frozen dataclasses, signed Decimals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Account:
    account_number: str
    nickname: str | None
    account_type_name: str | None  # "Individual", "Roth IRA", ...
    margin_or_cash: str | None  # "Margin" or "Cash"
    is_closed: bool  # closed accounts are listed but not synced
    is_futures_approved: bool
    authority_level: str | None  # "owner"
    suitable_options_level: str | None
    opened_at: datetime | None


@dataclass(frozen=True)
class Balance:
    """USD balances; amounts in $, unsigned unless stated."""

    account_number: str
    currency: str
    net_liquidating_value: Decimal | None  # signed
    cash_balance: Decimal | None  # signed as sent (no effect field)
    equity_buying_power: Decimal | None
    derivative_buying_power: Decimal | None
    used_derivative_buying_power: Decimal | None
    maintenance_requirement: Decimal | None
    maintenance_excess: Decimal | None
    margin_equity: Decimal | None
    long_equity_value: Decimal | None
    short_equity_value: Decimal | None
    long_derivative_value: Decimal | None
    short_derivative_value: Decimal | None
    long_cryptocurrency_value: Decimal | None
    short_cryptocurrency_value: Decimal | None
    pending_cash: Decimal | None  # signed from pending-cash-effect
    updated_at: datetime | None


@dataclass(frozen=True)
class Position:
    """One leg. ``quantity`` is signed: short < 0, a Zero-direction leg is 0."""

    account_number: str
    symbol: str
    instrument_type: str  # "Equity", "Equity Option", "Future", "Future Option", ...
    underlying_symbol: str | None  # "SPX" for SPXW options, the future for /ES options
    quantity: Decimal  # contracts or shares, signed; may be fractional
    quantity_direction: str  # "Long", "Short" or "Zero"
    multiplier: Decimal  # units per contract: 100 options, 1 stock, 50 /ES options
    average_open_price: Decimal | None  # per share/unit, unsigned
    close_price: Decimal | None  # previous close per share/unit
    mark_price: Decimal | None  # per unit, only with include_marks
    mark: Decimal | None  # whole position, only with include_marks
    cost_effect: str | None  # undocumented; never derive direction from it
    expires_at: datetime | None
    realized_day_gain: Decimal | None  # $, signed
    realized_today: Decimal | None  # $, signed
    streamer_symbol: str | None
    created_at: datetime | None
    updated_at: datetime | None

    def is_expired(self, now: datetime) -> bool:
        """Return True when the leg is past its ``expires-at`` (still listed)."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class Transaction:
    """A ledger row; money in $, signed from its ``-effect`` (credit > 0)."""

    id: int  # the dedupe key
    account_number: str | None
    transaction_type: str  # "Trade", "Receive Deliver", "Money Movement", ...
    transaction_sub_type: str | None
    action: str | None  # "Sell to Open", ...
    symbol: str | None
    instrument_type: str | None
    underlying_symbol: str | None
    quantity: Decimal | None  # unsigned, as sent
    price: Decimal | None  # per share/unit, unsigned
    value: Decimal | None  # price x quantity x multiplier, signed
    net_value: Decimal | None  # after fees, signed
    commission: Decimal | None  # signed (a cost is < 0)
    clearing_fees: Decimal | None
    regulatory_fees: Decimal | None
    proprietary_index_option_fees: Decimal | None
    other_charge: Decimal | None  # signed; e.g. an exchange or NFA fee on futures
    executed_at: datetime | None
    transaction_date: date | None  # New York calendar date
    description: str | None
    order_id: str | None = None  # legs filled in one order share it (multi-leg, rolls)


@dataclass(frozen=True)
class Quote:
    """A REST quote as sent (per share/unit). Which field is the mark is a pricing
    rule: metrics.marks.select_price. Greek fields are undocumented extras."""

    symbol: str
    instrument_type: str | None
    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal | None
    mark: Decimal | None
    last: Decimal | None
    close: Decimal | None
    prev_close: Decimal | None  # the previous session's close, for P/L day
    volume: Decimal | None
    open_interest: Decimal | None
    updated_at: datetime | None
    volatility: Decimal | None  # fraction; undocumented
    delta: Decimal | None
    gamma: Decimal | None
    theta: Decimal | None
    vega: Decimal | None
    rho: Decimal | None
    theo_price: Decimal | None


@dataclass(frozen=True)
class ExpirationIV:
    expiration_date: date
    settlement_type: str | None  # "AM" / "PM"
    option_chain_type: str | None
    implied_volatility: Decimal | None  # fraction: 0.2242 = 22.42 %


@dataclass(frozen=True)
class MarketMetric:
    symbol: str
    beta: Decimal | None
    dividend_yield: Decimal | None  # fraction per year
    iv_index: Decimal | None  # 30-day IV, fraction
    iv_index_rank: Decimal | None  # fraction 0-1
    iv_percentile: Decimal | None  # fraction 0-1
    iv_30_day: Decimal | None  # percent (21.87 = 21.87 %)
    hv_30_day: Decimal | None  # percent
    earnings_date: date | None
    expiration_ivs: tuple[ExpirationIV, ...]


@dataclass(frozen=True)
class BalanceSnapshot:
    """The account's balances at one day's end (``time-of-day`` EOD); money in $."""

    snapshot_date: date  # New York calendar date
    net_liquidating_value: Decimal | None


@dataclass(frozen=True)
class OptionInstrument:
    """An equity or future option's instrument data: what the broker states about it."""

    symbol: str
    instrument_type: str  # "Equity Option" or "Future Option"
    underlying_symbol: str | None
    root_symbol: str | None  # "SPXW"; "/ES" for a future option
    option_root_symbol: str | None  # a future option's product: "EW3"; None for equity
    exercise_style: str | None  # "American" or "European"; None when not stated
    settlement_type: str | None  # "AM" / "PM"; "Future" or "Cash" for future options
    expires_at: datetime | None
    active: bool
