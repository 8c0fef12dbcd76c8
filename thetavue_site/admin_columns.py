"""Admin list columns a person reads: formatted numbers and the owning trader.

Greeks are floats at rest (6.653479527139796) and quantities Decimals with six
places (-1.000000); lists show them rounded, with their unit in the header.
The owner column tells two traders' rows with the same name apart.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import admin


def _path(obj: Any, dotted: str) -> Any:
    for part in dotted.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def number_column(field: str, label: str, places: int = 2) -> Callable[[Any], str]:
    """A list column showing ``field`` grouped and rounded to ``places``."""

    @admin.display(description=label, ordering=field)
    def column(obj) -> str:
        value = _path(obj, field)
        if value is None:
            return "—"
        if isinstance(value, Decimal) and value == value.to_integral_value() and places == 0:
            return f"{value:,.0f}"
        return f"{float(value):,.{places}f}"

    column.__name__ = f"{field}_display"
    return column


def owner_column(path: str) -> Callable[[Any], str]:
    """A list column with the owning trader's email (``path`` leads to the user)."""

    @admin.display(description="owner", ordering=f"{path}__email")
    def column(obj) -> str:
        user = _path(obj, path)
        return (user.email or user.pk) if user is not None else "—"

    column.__name__ = "owner"
    return column
