"""Which quote field is a leg's mark: the pricing rule behind every value."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class QuoteFields(Protocol):
    mark: Decimal | None
    mid: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    close: Decimal | None


def select_price(
    *,
    mark: Decimal | None,
    mid: Decimal | None,
    bid: Decimal | None,
    ask: Decimal | None,
    last: Decimal | None,
    close: Decimal | None,
) -> tuple[Decimal | None, str | None]:
    """Return (price, source): mark, mid, (bid+ask)/2, last, close; first > 0.

    A zero or negative field is a missing one (an untraded option's last is 0).
    """
    if mark is not None and mark > 0:
        return mark, "mark"
    if mid is not None and mid > 0:
        return mid, "mid"
    if bid is not None and ask is not None and bid > 0 and ask > 0:
        return (bid + ask) / 2, "bid_ask"
    if last is not None and last > 0:
        return last, "last"
    if close is not None and close > 0:
        return close, "close"
    return None, None


def quote_price(quote: QuoteFields) -> tuple[Decimal | None, str | None]:
    """Return (price, source) of a broker quote by select_price's order."""
    return select_price(
        mark=quote.mark,
        mid=quote.mid,
        bid=quote.bid,
        ask=quote.ask,
        last=quote.last,
        close=quote.close,
    )
