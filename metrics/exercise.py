"""Exercise style per instrument: the broker's word where it gives one, else this table.

Sources for the table:

- Cboe product specifications: SPX, SPXW, XSP, NDX, NDXP, RUT, RUTW, VIX,
  VIXW, DJX, XEO, MXEF, MXEA and the mini-index MRUT are European-style,
  cash-settled; OEX (S&P 100) is the one American-style index option.
- Equity and ETF options (OCC standard terms) are American.
- CME Group contract specs: options on the quarterly E-mini index futures
  (ES, NQ, RTY, YM and micros) are American; the weekly and end-of-month
  series (E1A-E5A style roots and EW1-EW4, EW, Q1A-Q5A, QN1-QN4, the
  Nasdaq end-of-month QNE…) are European; so are the Micro E-mini options
  but the quarterlies (MES, MNQ: American): S&P Monday-Thursday X1A-X5D,
  Friday EX1-EX4, end-of-month EX; Nasdaq-100 Monday-Thursday D1A-D5D. Energy
  (LO/CL American; weekly LO1-LO5 American), metals (OG/SO American),
  grains and treasuries (OZN, OZB, ZN, ZB, ZF: American) as listed; Nymex
  natural gas LNE is European. Unknown futures-option roots are American,
  CME's default listing.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ExerciseStyle(StrEnum):
    AMERICAN = "American"
    EUROPEAN = "European"


class ExerciseStyleSource(StrEnum):
    """Where an option leg's style came from; a broker-stated style is never asked again."""

    BROKER = "broker"  # the broker's instrument data (``exercise-style``)
    TABLE = "table"  # this module's table, for symbols the broker did not answer


# Cash-settled, European-style index options (root symbols as the broker lists them).
EUROPEAN_INDEX_ROOTS = frozenset(
    {
        "SPX", "SPXW", "SPXPM", "XSP", "NDX", "NDXP", "XND", "RUT", "RUTW", "MRUT",
        "VIX", "VIXW", "DJX", "XEO", "MXEF", "MXEA", "SPIKE",
    }
)  # fmt: skip
# American-style index options: the exception among indexes.
AMERICAN_INDEX_ROOTS = frozenset({"OEX"})
# CME weekly / end-of-month equity-index futures options: European.
_EUROPEAN_FUTURE_OPTION_ROOT = re.compile(
    r"^(E[1-5][A-D]|EW[1-4]?|Q[1-5][A-D]|QN[1-4E]?|R[1-5][A-D]|RTM|[1-5]Y[A-D]|YM[1-4]|"
    r"E[1-5][A-D]M|MQ[1-5]|MM[1-5]|X[1-5][A-D]|EX[1-4]?|D[1-5][A-D]|LNE)$"
)


def exercise_style(
    *,
    instrument_type: str,
    underlying_symbol: str,
    root: str = "",
    stated: str | None = None,
) -> str:
    """Return "American" or "European" for an option leg, "" for stock and futures.

    ``stated`` is the broker's ``exercise-style`` when its instrument data
    gives one, and wins. Otherwise the option ``root`` decides (an OCC
    symbol's first field, "SPXW"; a futures option's product code, "EW3"),
    then the underlying symbol.
    """
    if instrument_type not in ("Equity Option", "Future Option"):
        return ""
    if stated in (ExerciseStyle.AMERICAN, ExerciseStyle.EUROPEAN):
        return str(stated)
    root = root.strip().upper()
    if instrument_type == "Future Option":
        if root and _EUROPEAN_FUTURE_OPTION_ROOT.match(root):
            return ExerciseStyle.EUROPEAN.value
        return ExerciseStyle.AMERICAN.value
    for name in (root, underlying_symbol.strip().upper()):
        if name in AMERICAN_INDEX_ROOTS:
            return ExerciseStyle.AMERICAN.value
        if name in EUROPEAN_INDEX_ROOTS:
            return ExerciseStyle.EUROPEAN.value
    return ExerciseStyle.AMERICAN.value
