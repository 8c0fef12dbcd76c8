"""Positions as CSV: the API's columns, with each unit in its header.

The rows are the API's serialised legs, so a spreadsheet sees exactly the
JSON values: money and prices as decimal strings, greeks as numbers, empty
cells for null.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

# (API field, CSV header). Headers carry units and signs (DESIGN.md §5).
POSITION_CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("portfolio_id", "portfolio_id"),
    ("symbol", "symbol"),
    ("underlying_symbol", "underlying_symbol"),
    ("instrument_type", "instrument_type"),
    ("option_type", "option_type"),
    ("strike_price", "strike_price_per_share"),
    ("expiration_date", "expiration_date"),
    ("dte", "dte_days"),
    ("open_date", "open_date"),
    ("quantity", "quantity_signed_short_negative"),
    ("multiplier", "multiplier"),
    ("strategy_type", "strategy_type"),
    ("strategy_group_id", "strategy_group_id"),
    ("average_open_price", "average_open_price_per_share"),
    ("mark", "mark_per_share"),
    ("previous_close", "previous_close_per_share"),
    ("underlying_price", "underlying_price"),
    ("implied_volatility", "implied_volatility_fraction"),
    ("iv_status", "iv_status"),
    ("greeks_source", "greeks_source"),
    ("beta", "beta"),
    ("premium_received", "premium_received_usd_credit_positive"),
    ("current_value", "current_value_usd"),
    ("unrealized_pnl", "unrealized_pnl_usd"),
    ("fees_since_open", "fees_since_open_usd"),
    ("pnl_open", "pnl_open_usd_after_fees"),
    ("pnl_day", "pnl_day_usd"),
    ("delta", "delta_shares"),
    ("gamma", "gamma_shares_per_point"),
    ("theta", "theta_usd_per_day"),
    ("vega", "vega_usd_per_vol_point"),
    ("rho", "rho_usd_per_rate_point"),
    ("exercise_style", "exercise_style"),
    ("exercise_style_source", "exercise_style_source"),
    ("iv_rank", "iv_rank_fraction"),
    ("iv_percentile", "iv_percentile_fraction"),
    ("updated_at", "updated_at_utc"),
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if value.startswith(_FORMULA_PREFIXES) and not _is_number(value):
            return "'" + value
        return value
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def positions_csv(rows: Iterable[Mapping]) -> str:
    """Render serialised legs as CSV text with a units-bearing header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header for _, header in POSITION_CSV_COLUMNS)
    for row in rows:
        writer.writerow(_cell(row.get(field)) for field, _ in POSITION_CSV_COLUMNS)
    return buffer.getvalue()
