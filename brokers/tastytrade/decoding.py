"""The broker's JSON to typed results: the one place that knows kebab-case keys,
decimal strings, ``-effect`` signs and the ``data``/``items`` envelope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from brokers.tastytrade.errors import BrokerProtocolError, shape_error
from brokers.tastytrade.types import (
    Account,
    Balance,
    ExpirationIV,
    MarketMetric,
    OptionInstrument,
    Position,
    Quote,
    Transaction,
)

_EFFECT_SIGNS = {"Credit": 1, "Debit": -1, "None": 0}
_DIRECTION_SIGNS = {"Long": 1, "Short": -1, "Zero": 0}


class _WireKeys(dict):
    """snake_case name -> the kebab-case key the API sends, built once per name."""

    def __missing__(self, key: str) -> str:
        wire = self[key] = key.replace("_", "-")
        return wire


class _EffectKeys(dict):
    """Amount name -> the name of its ``-effect`` sign field."""

    def __missing__(self, key: str) -> str:
        effect = self[key] = f"{key}_effect"
        return effect


_WIRE_KEYS = _WireKeys()
_EFFECT_KEYS = _EffectKeys()
_ABSENT = object()


class Record:
    """Typed reads of one JSON object by snake_case name; bad values are protocol errors.

    The object keeps the keys as sent: a name is looked up kebab-cased (the
    API's spelling) first, then as written (payloads already in snake_case).
    """

    __slots__ = ("raw", "what")

    def __init__(self, raw: Any, what: str) -> None:
        if not isinstance(raw, dict):
            raise shape_error(f"{what}: expected an object, got {type(raw).__name__}")
        self.raw = raw
        self.what = what

    def get(self, key: str) -> Any:
        """Return the value named `key` (kebab- or snake-cased on the wire), or None."""
        value = self.raw.get(_WIRE_KEYS[key], _ABSENT)
        return self.raw.get(key) if value is _ABSENT else value

    def invalid(self, key: str, value: Any, expected: str) -> BrokerProtocolError:
        return shape_error(f"{self.what}: '{key}' is not {expected}: {value!r}")

    def missing(self, key: str) -> BrokerProtocolError:
        return shape_error(f"{self.what}: '{key}' is missing")

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is None or value == "":
            return None
        if type(value) is str:  # the common case first
            return value
        if isinstance(value, (dict, list, bool)):
            raise self.invalid(key, value, "a string")
        return str(value)

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.missing(key)
        return value

    def decimal(self, key: str) -> Decimal | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            if type(value) is str and value:  # the wire's decimal strings, checked as below
                number = Decimal(value)
                if number.is_finite():
                    return number
                raise ValueError(value)
            return decimal_or_none(value)
        except (ValueError, InvalidOperation):
            raise self.invalid(key, value, "a number") from None

    def required_decimal(self, key: str) -> Decimal:
        value = self.decimal(key)
        if value is None:
            raise self.missing(key)
        return value

    def signed(self, key: str) -> Decimal | None:
        """Return the amount signed by ``<key>_effect``; None if the sign is absent."""
        amount = self.decimal(key)
        if amount is None:
            return None
        effect = self.get(_EFFECT_KEYS[key])
        if effect is None:
            return Decimal(0) if amount == 0 else None
        sign = _EFFECT_SIGNS.get(effect) if type(effect) is str else None
        if sign is None:
            raise self.invalid(f"{key}_effect", effect, "Credit, Debit or None")
        # abs() and - round to the context as multiplying by ±1 would: the same
        # Decimal, bar a zero debit, which the multiplication keeps as -0.
        if sign == 1:
            return abs(amount)
        if sign == -1 and amount:
            return -abs(amount)
        return abs(amount) * sign

    def integer(self, key: str) -> int | None:
        value = self.get(key)
        if type(value) is int:  # ids and counts arrive as JSON integers
            return value
        number = self.decimal(key)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise self.invalid(key, value, "an integer")
        return int(number)

    def required_integer(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise self.missing(key)
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if isinstance(value, bool):
            return value
        if value in (None, ""):
            return False
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self.invalid(key, value, "a boolean")

    def timestamp(self, key: str) -> datetime | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.invalid(key, value, "an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def day(self, key: str) -> date | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise self.invalid(key, value, "a YYYY-MM-DD date") from None

    def required_day(self, key: str) -> date:
        value = self.day(key)
        if value is None:
            raise self.missing(key)
        return value

    def record(self, key: str) -> Record | None:
        value = self.get(key)
        return None if value is None else Record(value, f"{self.what}.{key}")

    def records(self, key: str) -> list[Record]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.invalid(key, value, "a list")
        return [Record(item, f"{self.what}.{key}") for item in value]


def decode_account(item: Record) -> Account:
    # Each item wraps the account with the caller's authority level.
    account = item.record("account") or item
    return Account(
        account_number=account.required_text("account_number"),
        nickname=account.text("nickname"),
        account_type_name=account.text("account_type_name"),
        margin_or_cash=account.text("margin_or_cash"),
        is_closed=account.flag("is_closed"),
        is_futures_approved=account.flag("is_futures_approved"),
        authority_level=item.text("authority_level"),
        suitable_options_level=account.text("suitable_options_level"),
        opened_at=account.timestamp("opened_at"),
    )


def decode_balance(data: Record) -> Balance:
    return Balance(
        account_number=data.required_text("account_number"),
        currency=data.text("currency") or "USD",
        net_liquidating_value=data.decimal("net_liquidating_value"),
        cash_balance=data.decimal("cash_balance"),
        equity_buying_power=data.decimal("equity_buying_power"),
        derivative_buying_power=data.decimal("derivative_buying_power"),
        used_derivative_buying_power=data.decimal("used_derivative_buying_power"),
        maintenance_requirement=data.decimal("maintenance_requirement"),
        maintenance_excess=data.decimal("maintenance_excess"),
        margin_equity=data.decimal("margin_equity"),
        long_equity_value=data.decimal("long_equity_value"),
        short_equity_value=data.decimal("short_equity_value"),
        long_derivative_value=data.decimal("long_derivative_value"),
        short_derivative_value=data.decimal("short_derivative_value"),
        long_cryptocurrency_value=data.decimal("long_cryptocurrency_value"),
        short_cryptocurrency_value=data.decimal("short_cryptocurrency_value"),
        pending_cash=data.signed("pending_cash"),
        updated_at=data.timestamp("updated_at"),
    )


def decode_position(item: Record) -> Position:
    direction = item.required_text("quantity_direction")
    if direction not in _DIRECTION_SIGNS:
        raise item.invalid("quantity_direction", direction, "Long, Short or Zero")
    quantity = item.required_decimal("quantity")
    multiplier = item.decimal("multiplier")
    return Position(
        account_number=item.text("account_number") or "",
        symbol=item.required_text("symbol"),
        instrument_type=item.required_text("instrument_type"),
        underlying_symbol=item.text("underlying_symbol"),
        quantity=abs(quantity) * _DIRECTION_SIGNS[direction],
        quantity_direction=direction,
        # Absent means one unit; a zero is kept, for the book builder to set aside.
        multiplier=Decimal(1) if multiplier is None else multiplier,
        average_open_price=item.decimal("average_open_price"),
        close_price=item.decimal("close_price"),
        mark_price=item.decimal("mark_price"),
        mark=item.decimal("mark"),
        cost_effect=item.text("cost_effect"),
        expires_at=item.timestamp("expires_at"),
        realized_day_gain=item.signed("realized_day_gain"),
        realized_today=item.signed("realized_today"),
        streamer_symbol=item.text("streamer_symbol"),
        created_at=item.timestamp("created_at"),
        updated_at=item.timestamp("updated_at"),
    )


def decode_transaction(item: Record) -> Transaction:
    return Transaction(
        id=item.required_integer("id"),
        account_number=item.text("account_number"),
        transaction_type=item.required_text("transaction_type"),
        transaction_sub_type=item.text("transaction_sub_type"),
        action=item.text("action"),
        symbol=item.text("symbol"),
        instrument_type=item.text("instrument_type"),
        underlying_symbol=item.text("underlying_symbol"),
        quantity=item.decimal("quantity"),
        price=item.decimal("price"),
        value=item.signed("value"),
        net_value=item.signed("net_value"),
        commission=item.signed("commission"),
        clearing_fees=item.signed("clearing_fees"),
        regulatory_fees=item.signed("regulatory_fees"),
        proprietary_index_option_fees=item.signed("proprietary_index_option_fees"),
        other_charge=item.signed("other_charge"),
        executed_at=item.timestamp("executed_at"),
        transaction_date=item.day("transaction_date"),
        description=item.text("description"),
        order_id=item.text("order_id"),
    )


def decode_quote(item: Record) -> Quote:
    bid, ask = item.decimal("bid"), item.decimal("ask")
    mid, mark = item.decimal("mid"), item.decimal("mark")
    last, close = item.decimal("last"), item.decimal("close")
    return Quote(
        symbol=item.required_text("symbol"),
        instrument_type=item.text("instrument_type"),
        bid=bid,
        ask=ask,
        mid=mid,
        mark=mark,
        last=last,
        close=close,
        prev_close=item.decimal("prev_close"),
        volume=item.decimal("volume"),
        open_interest=item.decimal("open_interest"),
        updated_at=item.timestamp("updated_at"),
        volatility=item.decimal("volatility"),
        delta=item.decimal("delta"),
        gamma=item.decimal("gamma"),
        theta=item.decimal("theta"),
        vega=item.decimal("vega"),
        rho=item.decimal("rho"),
        theo_price=item.decimal("theo_price"),
    )


def decode_market_metric(item: Record) -> MarketMetric:
    earnings = item.record("earnings")
    return MarketMetric(
        symbol=item.required_text("symbol"),
        beta=item.decimal("beta"),
        dividend_yield=item.decimal("dividend_yield"),
        iv_index=item.decimal("implied_volatility_index"),
        # Payloads say -index-rank; the published schema says -rank.
        iv_index_rank=item.decimal("implied_volatility_index_rank")
        if item.get("implied_volatility_index_rank") is not None
        else item.decimal("implied_volatility_rank"),
        iv_percentile=item.decimal("implied_volatility_percentile"),
        iv_30_day=item.decimal("implied_volatility_30_day"),
        hv_30_day=item.decimal("historical_volatility_30_day"),
        earnings_date=earnings.day("expected_report_date") if earnings else None,
        expiration_ivs=tuple(
            ExpirationIV(
                expiration_date=row.required_day("expiration_date"),
                settlement_type=row.text("settlement_type"),
                option_chain_type=row.text("option_chain_type"),
                implied_volatility=row.decimal("implied_volatility"),
            )
            for row in item.records("option_expiration_implied_volatilities")
        ),
    )


EXERCISE_STYLES = frozenset({"American", "European"})


def decode_option_instrument(item: Record) -> OptionInstrument:
    """Decode one equity- or future-option instrument; other exercise styles read as unstated.

    A style outside American/European (a new word, a Bermudan product) is
    not one the pricing models know, so it is left for the table to decide.
    """
    style = item.text("exercise_style")
    return OptionInstrument(
        symbol=item.required_text("symbol"),
        instrument_type=item.required_text("instrument_type"),
        underlying_symbol=item.text("underlying_symbol"),
        root_symbol=item.text("root_symbol"),
        option_root_symbol=item.text("option_root_symbol"),
        exercise_style=style if style in EXERCISE_STYLES else None,
        settlement_type=item.text("settlement_type"),
        expires_at=item.timestamp("expires_at"),
        active=item.flag("active"),
    )


def decimal_or_none(value: object) -> Decimal | None:
    """Return a wire number or decimal string as Decimal, never through float."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)  # the wire parses floats as Decimal; other callers may not
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def data(payload: Any, what: str) -> Record:
    """Return the envelope's ``data`` object."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise shape_error(f"{what}: no 'data' object in the response")
    return Record(payload["data"], what)


def items(payload: Any, what: str) -> list[Record]:
    """Return the envelope's ``data.items`` list."""
    rows = data(payload, what).get("items")
    if not isinstance(rows, list):
        raise shape_error(f"{what}: 'data.items' is not a list")
    return [Record(item, what) for item in rows]


def total_pages(payload: Any, what: str) -> int | None:
    """Return ``pagination.total-pages``; None when the answer is not paginated."""
    pagination = payload.get("pagination") if isinstance(payload, dict) else None
    if pagination is None:
        return None
    return Record(pagination, f"{what} pagination").integer("total_pages")
