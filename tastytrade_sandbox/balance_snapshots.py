"""GET /accounts/{n}/balance-snapshots: a year of end-of-day net liq (tastytrade-api.md §1.3).

The history is made up but deterministic: it ends at the account's current
net liq and drifts back from it by a small trend and a slow wave, one row per
weekday, New York dates, paginated like transactions (250 a page by default).
Query: ``start-date`` (default a year before ``end-date``), ``end-date``
(default yesterday), ``time-of-day`` (only ``EOD`` is served), ``per-page``,
``page-offset``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tastytrade_sandbox.market_calendar import new_york_today
from tastytrade_sandbox.wire import list_envelope

if TYPE_CHECKING:
    from tastytrade_sandbox.api import Api
    from tastytrade_sandbox.http_types import Request

DAYS_BY_DEFAULT = 365
PER_PAGE = 250
CENT = Decimal("0.01")


def net_liq_on(current: Decimal, days_back: int) -> Decimal:
    """Return the made-up end-of-day net liq ``days_back`` days before today ($)."""
    factor = 1 - 0.00025 * days_back + 0.012 * math.sin(days_back / 11)
    return (current * Decimal(repr(factor))).quantize(CENT)


def respond(api: Api, request: Request, login: str, number: str) -> dict[str, Any]:
    """Answer the endpoint for one of the customer's accounts."""
    from tastytrade_sandbox.api import _date_param, _int_param, invalid

    current = Decimal(api._balance_data(login, number)["net-liquidating-value"])
    if (request.param("time-of-day") or "EOD") != "EOD":
        raise invalid("time-of-day", "only EOD snapshots are kept")
    today = new_york_today(api.sandbox.clock.now())
    end = min(_date_param(request, "end-date") or today - timedelta(days=1), today)
    start = _date_param(request, "start-date") or end - timedelta(days=DAYS_BY_DEFAULT)
    per_page = _int_param(request, "per-page", PER_PAGE)
    page = _int_param(request, "page-offset", 0)
    if not 1 <= per_page <= 2000:
        raise invalid("per-page")
    if page < 0:
        raise invalid("page-offset")
    days = [
        start + timedelta(days=offset)
        for offset in range((end - start).days + 1)
        if (start + timedelta(days=offset)).weekday() < 5
    ]
    rows = [
        {
            "account-number": number,
            "snapshot-date": day.isoformat(),
            "time-of-day": "EOD",
            "net-liquidating-value": str(net_liq_on(current, (today - day).days)),
        }
        for day in days
    ]
    first = page * per_page
    items = rows[first : first + per_page]
    pagination = {
        "per-page": per_page,
        "page-offset": page,
        "item-offset": first,
        "total-items": len(rows),
        "total-pages": math.ceil(len(rows) / per_page),
        "current-item-count": len(items),
        "previous-link": None,
        "next-link": None,
        "paging-link-template": None,
    }
    return list_envelope(items, request.path, pagination)


__all__ = ["net_liq_on", "respond"]
