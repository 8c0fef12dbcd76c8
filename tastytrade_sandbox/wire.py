"""Tastytrade's wire conventions as the sandbox writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def iso(instant: datetime, *, zulu: bool = True) -> str:
    """Return ISO 8601 UTC with milliseconds, ending ``Z`` or ``+00:00``."""
    utc = instant.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
    return text + ("Z" if zulu else "+00:00")


def decimal_text(value: Decimal) -> str:
    """Return a decimal string the way the API writes them: "870.0", "4.35"."""
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def money(value: Decimal) -> str:
    """Return dollars rounded to cents as a decimal string."""
    return decimal_text(value.quantize(CENT))


def effect(value: Decimal) -> str:
    """Return the ``-effect`` word for a signed amount."""
    if value > 0:
        return "Credit"
    if value < 0:
        return "Debit"
    return "None"


def envelope(data: Any, context: str) -> dict[str, Any]:
    return {"data": data, "context": context}


def list_envelope(
    items: list[Any], context: str, pagination: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"items": items}, "context": context}
    if pagination is not None:
        body["pagination"] = pagination
    return body


def error_body(
    code: str, message: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if errors:
        error["errors"] = errors
    return {"error": error}


def count_text(value: Decimal) -> str:
    """Return a quantity as the API writes it in strings: "2", "2.5"."""
    return format(value.normalize(), "f")
