"""A portfolio's stored legs as pricing columns, read in one statement.

Pricing works on whole columns (LegInputs), so the read hands it columns:
one SELECT whose prices and quantities PostgreSQL already casts to float8,
with the documented defaults in place of NULL (NaN for a missing price,
"PM" settlement, a zero dividend yield), transposed once in Python. No
Decimal, model instance or per-row dict is built on the way; money stays
Decimal (premium received and current value) because P/L is summed exactly.
Units as in metrics.pricing.LegInputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection
from numpy.typing import NDArray

from metrics.pricing import LegInputs

_SELECT = """
SELECT id, instrument_type, coalesce(option_type, ''),
       coalesce(strike_price::float8, 'NaN'), expiration_date, coalesce(settlement_type, 'PM'),
       coalesce(mark::float8, 'NaN'), coalesce(underlying_price::float8, 'NaN'),
       quantity::float8, multiplier::float8, coalesce(dividend_yield, 0),
       coalesce(implied_volatility, 'NaN'), coalesce(beta, 'NaN'), exercise_style,
       underlying_symbol, strategy_type, strategy_group_id, premium_received, current_value
FROM positions WHERE portfolio_id = %s ORDER BY id
"""
_INPUTS = (
    "instrument_type",
    "option_type",
    "strike",
    "expiration",
    "settlement",
    "mark",
    "underlying_price",
    "quantity",
    "multiplier",
    "dividend_yield",
    "broker_iv",
    "beta",
    "exercise_style",
)
_FLOAT_INPUTS = frozenset(_INPUTS) - {
    "instrument_type",
    "option_type",
    "settlement",
    "expiration",
    "exercise_style",
}


@dataclass(frozen=True)
class StoredLegs:
    """The legs in id order: pricing inputs plus what the roll-up groups and sums by."""

    ids: NDArray[np.int64]
    inputs: LegInputs
    underlying: NDArray[np.str_]
    strategy_types: NDArray[np.str_]
    strategy_group_ids: list[str]  # "" for a leg outside any group
    premium_received: list[Decimal | None]  # $, credit > 0
    current_value: list[Decimal | None]  # $, a short's value < 0

    def __len__(self) -> int:
        return len(self.ids)


def stored_legs(*, portfolio_id: int) -> StoredLegs:
    """Read the portfolio's legs (as the current RLS context allows) into columns."""
    with connection.cursor() as cursor:
        cursor.execute(_SELECT, [portfolio_id])
        rows = cursor.fetchall()
    width = 1 + len(_INPUTS) + 5
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    ids, inputs, rest = columns[0], columns[1 : 1 + len(_INPUTS)], columns[1 + len(_INPUTS) :]
    arrays = {}
    for name, values in zip(_INPUTS, inputs, strict=True):
        if name in _FLOAT_INPUTS:
            arrays[name] = np.array(values, dtype=np.float64)
        elif name == "expiration":
            arrays[name] = np.array(values, dtype="datetime64[D]")  # None is NaT
        else:
            arrays[name] = np.array(values, dtype=np.str_)
    underlying, strategy_types, group_ids, premium_received, current_value = rest
    return StoredLegs(
        ids=np.array(ids, dtype=np.int64),
        inputs=LegInputs(**arrays),
        underlying=np.array(underlying, dtype=np.str_),
        strategy_types=np.array(strategy_types, dtype=np.str_),
        strategy_group_ids=list(group_ids),
        premium_received=list(premium_received),
        current_value=list(current_value),
    )
