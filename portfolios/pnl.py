"""P/L per leg as database expressions (DESIGN.md §5), shared by the book and the selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round

from portfolios.models import MONEY, Transaction


def pnl_annotations(*, today: dt.date) -> dict:
    """Return the per-leg P/L expressions (DESIGN.md §5), in $ as Decimal.

    - `fees_since_open`: commissions and fees (≥ 0) of the leg's symbol booked
      on or after its open date (every one when the open date is unknown);
    - `pnl_open` = premium_received + current_value − fees_since_open;
    - `pnl_day`: a leg opened today (New York) against its open price,
      premium_received + current_value; otherwise current_value − the broker's
      previous close × quantity × multiplier. None without a previous close.
      Fees are not in the day's figure, as on the broker's own page.
    """
    money = DecimalField(**MONEY)
    fees = (
        Transaction.objects.filter(
            portfolio_id=OuterRef("portfolio_id"),
            symbol=OuterRef("symbol"),
            transaction_date__gte=Coalesce(OuterRef("open_date"), Value(dt.date(1900, 1, 1))),
        )
        .order_by()
        .values("symbol")
        .annotate(total=Sum("fees"))
        .values("total")[:1]
    )
    fees_since_open = Coalesce(Subquery(fees, output_field=money), Value(Decimal("0.00")))
    previous_value = Round(
        F("previous_close") * F("quantity") * F("multiplier"), 2, output_field=money
    )
    return {
        "fees_since_open": fees_since_open,
        "pnl_open": ExpressionWrapper(
            F("premium_received") + F("current_value") - fees_since_open, output_field=money
        ),
        "pnl_day": Case(
            When(open_date=today, then=F("premium_received") + F("current_value")),
            When(previous_close__isnull=False, then=F("current_value") - previous_value),
            default=Value(None),
            output_field=money,
        ),
    }
