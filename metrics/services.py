"""Writes of the metrics app: re-price a portfolio's stored legs.

Units and signs follow DESIGN.md §5: greeks per position (delta in
share-equivalents, a short put > 0; theta in $ per calendar day, short premium
> 0; vega in $ per +1 vol point), implied volatility as a fraction.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from metrics.pricing import EQUITY_OPTION, FUTURE_OPTION, price_legs
from metrics.selectors import leg_inputs
from portfolios.models import Portfolio, Position

REPRICED_FIELDS = [
    "implied_volatility",
    "iv_status",
    "greeks_source",
    "delta",
    "gamma",
    "theta",
    "vega",
    "updated_at",
]
_OPTIONS = frozenset({EQUITY_OPTION, FUTURE_OPTION})


@transaction.atomic
def positions_reprice(*, portfolio: Portfolio, now: dt.datetime | None = None) -> int:
    """Price every stored leg of the portfolio at ``now`` and store IV and greeks.

    One vectorised ``price_legs`` call, one bulk update; the portfolio's
    ``sync_version`` is bumped (so cached metrics go stale) and its
    ``updated_at`` set to ``now``, the as-of time of a manual portfolio's
    metrics. Legs that cannot be priced get NULL greeks and source "none".
    Return the number of legs written.
    """
    now = now or timezone.now()
    # Lock the portfolio row first, as the portfolio services do before
    # editing legs, so a concurrent edit waits instead of being overwritten.
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).values_list("pk").first()
    positions = list(Position.objects.filter(portfolio_id=portfolio.pk).order_by("pk"))
    if positions:
        pricing = price_legs(leg_inputs(positions), now=now, rate=settings.RISK_FREE_RATE)
        for index, position in enumerate(positions):
            priced = bool(pricing.priced[index])
            if position.instrument_type in _OPTIONS:
                # Keep the stored IV when none was used (no underlying price, expired):
                # a trader's own IV must survive until the leg can be priced with it.
                used_iv = _finite(pricing.iv[index])
                if used_iv is not None:
                    position.implied_volatility = used_iv
            else:
                position.implied_volatility = None
            position.iv_status = str(pricing.iv_status[index])
            position.greeks_source = str(pricing.greeks_source[index])
            position.delta = _finite(pricing.position_delta[index]) if priced else None
            position.gamma = _finite(pricing.position_gamma[index]) if priced else None
            position.theta = _finite(pricing.position_theta[index]) if priced else None
            position.vega = _finite(pricing.position_vega[index]) if priced else None
            position.updated_at = now
        Position.objects.bulk_update(positions, REPRICED_FIELDS)
    Portfolio.objects.filter(pk=portfolio.pk).update(
        sync_version=F("sync_version") + 1, updated_at=now
    )
    portfolio.refresh_from_db(fields=["sync_version", "updated_at"])
    return len(positions)


def _finite(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None
