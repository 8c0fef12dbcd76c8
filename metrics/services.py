"""Workflows of the metrics app: re-price a portfolio's stored legs.

Metrics computes, portfolios writes: the legs are read into pricing columns
(metrics.stored_legs), priced in one vectorised call (metrics.pricing), and
stored by portfolios' own service in one UPDATE. Units and signs follow
DESIGN.md §5: greeks per position (delta in share-equivalents, a short put
> 0; theta in $ per calendar day, short premium > 0; vega in $ per +1 vol
point; rho in $ per +1 rate point), implied volatility as a fraction.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from metrics.pricing import price_legs
from metrics.stored_legs import stored_legs
from portfolios.models import Portfolio
from portfolios.services import portfolio_lock, positions_pricing_store


@transaction.atomic
def positions_reprice(*, portfolio: Portfolio, now: dt.datetime | None = None) -> int:
    """Price every stored leg of the portfolio at ``now`` and store IV and greeks.

    One read into columns, one vectorised ``price_legs`` call, one UPDATE (by
    ``portfolios.services.positions_pricing_store``, which also bumps the
    portfolio's ``sync_version`` and sets its ``updated_at`` to ``now``). The
    portfolio row is locked before the legs are read, so a concurrent leg
    edit waits for the re-pricing instead of being overwritten by it. Return
    the number of legs written.
    """
    now = now or timezone.now()
    portfolio_lock(portfolio=portfolio)
    legs = stored_legs(portfolio_id=portfolio.pk)
    pricing = price_legs(legs.inputs, now=now, rate=settings.RISK_FREE_RATE) if len(legs) else None
    return positions_pricing_store(
        portfolio=portfolio,
        leg_ids=legs.ids,
        instrument_types=legs.inputs.instrument_type,
        pricing=pricing,
        now=now,
    )
