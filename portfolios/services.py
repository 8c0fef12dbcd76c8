"""Writes to portfolios and their legs: every one atomic, keyword-only and typed.

Manual portfolios (positions held at a broker that is not synced) are edited
here by their owner; synced portfolios are written by the broker sync, and
their owner may only rename or delete them. Units and signs (DESIGN.md §5):
quantity signed (short < 0); premium_received = −average_open_price ×
quantity × multiplier in $ (credit > 0); current_value = mark × quantity ×
multiplier in $ (a short is < 0).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from numpy.typing import NDArray

from brokers.connections import connection_account_exclude
from metrics.exercise import exercise_style
from metrics.pricing import LegPricing, price_legs
from portfolios.book import BOOK_COLUMNS, PRICING_COLUMNS, leg_inputs, leg_owners
from portfolios.instruments import OPTION_INSTRUMENTS
from portfolios.leg_identity import leg_identity
from portfolios.models import InstrumentType, Portfolio, Position
from portfolios.selectors import market_today
from portfolios.strategy_types import StrategyType
from thetavue_site import domain_errors

CENT = Decimal("0.01")
# numeric(18, 2): anything at or above this does not fit a money column.
MONEY_LIMIT = Decimal(10) ** 16
DEFAULT_MULTIPLIERS = {InstrumentType.EQUITY: 1, InstrumentType.EQUITY_OPTION: 100}
PORTFOLIO_MANUAL_FIELDS = ("name", "net_liquidation_value", "cash_balance", "buying_power")
PORTFOLIO_SYNCED_FIELDS = ("name",)
POSITION_MUTABLE_FIELDS = (
    "quantity",
    "multiplier",
    "average_open_price",
    "mark",
    "underlying_price",
    "implied_volatility",
    "beta",
    "open_date",
    "strategy_type",
    "strategy_group_id",
)
GREEKS = ("delta", "gamma", "theta", "vega")


class PortfolioReadOnly(domain_errors.ReadOnly):
    """A synced portfolio's legs (and all its fields but name) belong to the broker."""


class ConfirmationRequired(domain_errors.ConfirmationRequired):
    """Deleting a synced portfolio needs an explicit confirmation."""


# Portfolios ------------------------------------------------------------------


@transaction.atomic
def portfolio_create(
    *,
    user,
    name: str,
    account_type: str = Portfolio.AccountType.MANUAL,
    net_liquidation_value: Decimal | None = None,
    cash_balance: Decimal | None = None,
    buying_power: Decimal | None = None,
) -> Portfolio:
    """Create a manual portfolio; broker accounts are created by the sync only."""
    if account_type != Portfolio.AccountType.MANUAL:
        raise ValidationError(
            {
                "account_type": (
                    "Only manual portfolios can be created here; broker accounts "
                    "appear when a broker connection syncs."
                )
            }
        )
    return Portfolio.objects.create(
        user=user,
        name=name,
        account_type=Portfolio.AccountType.MANUAL,
        net_liquidation_value=net_liquidation_value,
        cash_balance=cash_balance,
        buying_power=buying_power,
    )


@transaction.atomic
def portfolio_update(*, portfolio: Portfolio, data: Mapping[str, Any]) -> Portfolio:
    """Change a portfolio's fields; a synced portfolio only accepts a new name."""
    allowed = PORTFOLIO_MANUAL_FIELDS if portfolio.is_manual else PORTFOLIO_SYNCED_FIELDS
    refused = [key for key in data if key not in allowed]
    if refused:
        reason = (
            "Read-only: this portfolio is synced from the broker, which sets it on "
            "every sync; only name can change."
            if not portfolio.is_manual
            else "Cannot be changed."
        )
        raise ValidationError({key: reason for key in refused})
    for key, value in data.items():
        setattr(portfolio, key, value)
    if data:
        portfolio.save(update_fields=[*data, "updated_at"])
    return portfolio


@transaction.atomic
def portfolio_delete(*, portfolio: Portfolio, confirm: bool = False) -> None:
    """Delete a portfolio and its legs, balances and transactions.

    A synced portfolio needs `confirm`; its broker account is then added to
    its connection's `excluded_account_ids`, so the next sync does not
    re-create it (reconnecting the broker is how it comes back).
    """
    if not portfolio.is_manual:
        if not confirm:
            raise ConfirmationRequired(
                f"'{portfolio.name}' is synced from broker account "
                f"{portfolio.broker_account_id}: deleting it removes its synced legs, "
                "balances and transactions, and future syncs skip that account until "
                "the broker is reconnected. Repeat the request with ?confirm=true."
            )
        if portfolio.broker_connection_id is not None:
            connection_account_exclude(
                connection_id=portfolio.broker_connection_id,
                broker_account_id=portfolio.broker_account_id,
            )
    portfolio.delete()


# Positions (manual portfolios) -----------------------------------------------


def _lock_manual(portfolio: Portfolio) -> Portfolio:
    """Lock the portfolio row so concurrent edits of its legs regroup one at a time."""
    if not portfolio.is_manual:
        raise PortfolioReadOnly("This portfolio is synced from the broker: its legs are read-only.")
    return Portfolio.objects.select_for_update().get(pk=portfolio.pk)


def _bump_version(portfolio: Portfolio) -> None:
    Portfolio.objects.filter(pk=portfolio.pk).update(
        sync_version=F("sync_version") + 1, updated_at=timezone.now()
    )


@transaction.atomic
def position_create(*, portfolio: Portfolio, data: Mapping[str, Any]) -> Position:
    """Add a leg to a manual portfolio from an OCC/ticker symbol or from its parts.

    `data` holds shape-checked input (see PositionCreateInput). Rules across
    fields are checked here; each failure names its field and stores nothing.
    """
    portfolio = _lock_manual(portfolio)
    errors: dict[str, Any] = {}
    try:
        identity = leg_identity(data)
    except ValidationError as error:
        errors.update(error.message_dict)
        identity = None
    quantity = data["quantity"]
    multiplier = data.get("multiplier")
    if identity is not None:
        instrument_type = identity["instrument_type"]
        if multiplier is None:
            multiplier = DEFAULT_MULTIPLIERS.get(instrument_type)
            if multiplier is None:
                errors["multiplier"] = (
                    "Required for futures and futures options: the contract's "
                    "multiplier (e.g. 50 for /ES)."
                )
        _check_whole_contracts(instrument_type, quantity, errors)
    if errors or identity is None:
        raise ValidationError(errors)
    if portfolio.positions.filter(symbol=identity["symbol"]).exists():
        raise ValidationError({"symbol": _duplicate_message(identity["symbol"])})

    position = Position(
        portfolio=portfolio,
        quantity=quantity,
        multiplier=multiplier,
        strategy_type=data.get("strategy_type") or _single_leg_type(identity, quantity),
        strategy_group_id=data.get("strategy_group_id") or "",
        **identity,
        **{
            key: data.get(key)
            for key in (
                "average_open_price",
                "mark",
                "underlying_price",
                "implied_volatility",
                "beta",
                "open_date",
            )
        },
    )
    _derive_money(position)
    _price(position)
    try:
        # A savepoint: a concurrent insert of the same symbol must not break the outer
        # transaction before the error is reported.
        with transaction.atomic():
            position.save()
    except IntegrityError as error:
        if "positions_portfolio_symbol_unique" in str(error):
            raise ValidationError({"symbol": _duplicate_message(position.symbol)}) from None
        raise
    _bump_version(portfolio)
    positions_regroup(portfolio=portfolio, underlying_symbol=position.underlying_symbol)
    position.refresh_from_db()
    return position


@transaction.atomic
def position_update(*, position: Position, data: Mapping[str, Any]) -> Position:
    """Change a manual leg's quantity, prices or hints; its contract cannot change."""
    portfolio = _lock_manual(position.portfolio)
    refused = [key for key in data if key not in POSITION_MUTABLE_FIELDS]
    if refused:
        raise ValidationError(
            {
                key: "Cannot change the contract of a leg: delete it and add a new one."
                for key in refused
            }
        )
    errors: dict[str, str] = {}
    quantity = data.get("quantity", position.quantity)
    _check_whole_contracts(position.instrument_type, quantity, errors)
    if errors:
        raise ValidationError(errors)

    for key, value in data.items():
        if key == "strategy_group_id" and value is None:
            value = ""
        setattr(position, key, value)
    _derive_money(position)
    _price(position)
    position.save()
    _bump_version(portfolio)
    positions_regroup(portfolio=portfolio, underlying_symbol=position.underlying_symbol)
    position.refresh_from_db()
    return position


@transaction.atomic
def position_delete(*, position: Position) -> None:
    """Remove a leg from a manual portfolio and regroup what is left."""
    portfolio = _lock_manual(position.portfolio)
    underlying_symbol = position.underlying_symbol
    position.delete()
    _bump_version(portfolio)
    positions_regroup(portfolio=portfolio, underlying_symbol=underlying_symbol)


def positions_regroup(*, portfolio: Portfolio, underlying_symbol: str | None = None) -> int:
    """Store detected strategy types and group ids on the portfolio's legs; return changes.

    Detection never groups legs of different underlyings, so after an edit only
    that leg's underlying is regrouped. Past book.MAX_LEGS_TO_REGROUP legs the
    legs keep the types they were given, or the single-leg type inferred when
    they were added.
    """
    legs = Position.objects.filter(portfolio=portfolio)
    if underlying_symbol is not None:
        legs = legs.filter(underlying_symbol=underlying_symbol)
    legs = list(legs.values(*BOOK_COLUMNS))
    found = leg_owners(rows=legs, portfolio=portfolio, today=market_today())
    if found is None:
        return 0
    changed = [
        Position(
            pk=leg["id"], strategy_type=found[leg["id"]][0], strategy_group_id=found[leg["id"]][1]
        )
        for leg in legs
        if leg["id"] in found
        and (leg["strategy_type"], leg["strategy_group_id"]) != found[leg["id"]]
    ]
    if changed:
        Position.objects.bulk_update(changed, ["strategy_type", "strategy_group_id"])
    return len(changed)


# Pricing of stored legs ------------------------------------------------------

# One statement writes every leg's pricing: the arrays are unnested into rows.
_PRICING_WRITE = """
UPDATE positions p SET
    implied_volatility = CASE WHEN v.is_option THEN coalesce(v.iv, p.implied_volatility) END,
    iv_status = v.iv_status, greeks_source = v.greeks_source,
    delta = v.delta, gamma = v.gamma, theta = v.theta, vega = v.vega, rho = v.rho,
    updated_at = %s
FROM unnest(%s::bigint[], %s::boolean[], %s::float8[], %s::text[], %s::text[],
            %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
     AS v(id, is_option, iv, iv_status, greeks_source, delta, gamma, theta, vega, rho)
WHERE p.id = v.id
"""


def portfolio_lock(*, portfolio: Portfolio) -> None:
    """Lock the portfolio row (manual or synced) until the transaction ends.

    Taken before reading legs to re-price them, as the leg edits above take it
    before editing, so a concurrent edit waits instead of being overwritten.
    """
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).values_list("pk").first()


# No savepoint of its own: re-pricing calls it inside its transaction, and the
# write is one statement anyway (the query-count pin counts the savepoints).
@transaction.atomic(savepoint=False)
def positions_pricing_store(
    *,
    portfolio: Portfolio,
    leg_ids: NDArray[np.int64],
    instrument_types: NDArray[np.str_],
    pricing: LegPricing | None,
    now: dt.datetime,
) -> int:
    """Store a re-pricing of the portfolio's legs (metrics.pricing units) in one UPDATE.

    ``leg_ids`` and ``instrument_types`` are in the order ``pricing`` was
    computed; ``pricing`` is None when there are no legs. Greeks are per
    position (delta in share-equivalents, a short put > 0; theta in $ per
    calendar day, short premium > 0; vega in $ per +1 vol point; rho in $ per
    +1 rate point); a leg that was not priced gets NULL greeks. An option keeps
    its stored IV when pricing used none (no underlying price, expired): a
    trader's own IV must survive until the leg can be priced with it; stock and
    futures store none. The portfolio's ``sync_version`` is bumped (so cached
    metrics go stale) and its ``updated_at`` set to ``now``, the as-of time of
    a manual portfolio's metrics. Return the number of legs written.
    """
    if pricing is not None and len(leg_ids):
        priced = pricing.priced

        def greek(values: np.ndarray) -> list[float | None]:
            return _nullable(np.where(priced, values, np.nan))

        with connection.cursor() as cursor:
            cursor.execute(
                _PRICING_WRITE,
                [
                    now,
                    leg_ids.tolist(),
                    np.isin(instrument_types, list(OPTION_INSTRUMENTS)).tolist(),
                    _nullable(pricing.iv),
                    pricing.iv_status.tolist(),
                    pricing.greeks_source.tolist(),
                    greek(pricing.position_delta),
                    greek(pricing.position_gamma),
                    greek(pricing.position_theta),
                    greek(pricing.position_vega),
                    greek(pricing.position_rho),
                ],
            )
    Portfolio.objects.filter(pk=portfolio.pk).update(
        sync_version=F("sync_version") + 1, updated_at=now
    )
    portfolio.refresh_from_db(fields=["sync_version", "updated_at"])
    return len(leg_ids)


def _nullable(values: np.ndarray) -> list[float | None]:
    """Floats for SQL: NaN and ±inf become NULL (never a number a trader can use)."""
    return [float(v) if math.isfinite(v) else None for v in values.tolist()]


# Leg rules -------------------------------------------------------------------


def _duplicate_message(symbol: str) -> str:
    return f"This portfolio already holds {symbol.strip()}: change that leg's quantity instead."


def _check_whole_contracts(instrument_type: str, quantity: Decimal, errors: dict) -> None:
    if instrument_type != InstrumentType.EQUITY and quantity != quantity.to_integral_value():
        errors["quantity"] = "Options and futures trade in whole contracts."


def _single_leg_type(identity: Mapping[str, Any], quantity: Decimal) -> str:
    """Name a lone leg's strategy; detection, when installed, regroups right after."""
    instrument_type = identity["instrument_type"]
    if instrument_type == InstrumentType.EQUITY:
        return StrategyType.STOCK.value
    if instrument_type == InstrumentType.FUTURE:
        return StrategyType.FUTURE.value
    short = quantity < 0
    if identity["option_type"] == "P":
        return (StrategyType.SHORT_PUT if short else StrategyType.LONG_PUT).value
    return (StrategyType.SHORT_CALL if short else StrategyType.LONG_CALL).value


def _money(price: Decimal | None, position: Position, sign: int, field: str) -> Decimal | None:
    if price is None:
        return None
    value = (sign * price * position.quantity * position.multiplier).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    if abs(value) >= MONEY_LIMIT:
        raise ValidationError(
            {field: f"{field} × quantity × multiplier is too large (must stay below $10^16)."}
        )
    return value


def _derive_money(position: Position) -> None:
    """Recompute premium_received and current_value from prices (DESIGN.md §5)."""
    position.premium_received = _money(
        position.average_open_price, position, -1, "average_open_price"
    )
    position.current_value = _money(position.mark, position, 1, "mark")


def _price(position: Position) -> None:
    """Price the leg now (metrics.pricing, as the sync does) and store its greeks.

    IV comes from the mark when it gives one, else from the leg's own
    implied_volatility (the trader's estimate, kept when unused); stock and
    futures have delta 1 per unit. A leg that cannot be priced (no underlying
    price, no mark or IV) gets null greeks and greeks_source "none". The same
    rules as positions_pricing_store, which stores a whole book's re-pricing.
    """
    position.exercise_style = exercise_style(
        instrument_type=position.instrument_type,
        underlying_symbol=position.underlying_symbol,
        root=position.symbol.split(" ", 1)[0] if position.symbol else "",
        stated=position.exercise_style or None,
    )
    row = {column: getattr(position, column) for column in PRICING_COLUMNS.values()}
    inputs = leg_inputs([row])
    priced = price_legs(inputs, now=timezone.now(), rate=settings.RISK_FREE_RATE)
    ok = bool(priced.priced[0])
    position.greeks_source = str(priced.greeks_source[0])
    position.iv_status = str(priced.iv_status[0])
    if position.instrument_type in (InstrumentType.EQUITY_OPTION, InstrumentType.FUTURE_OPTION):
        # Keep the trader's IV when none was used (no underlying price yet): it
        # prices the leg once the underlying price arrives.
        used_iv = _finite(priced.iv[0])
        if used_iv is not None:
            position.implied_volatility = used_iv
    else:
        position.implied_volatility = None
    for greek in GREEKS:
        setattr(position, greek, _finite(getattr(priced, f"position_{greek}")[0]) if ok else None)
    position.rho = _finite(priced.position_rho[0]) if ok else None


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
