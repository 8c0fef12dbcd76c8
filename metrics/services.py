"""Writes of the metrics app: re-price a portfolio's stored legs.

Units and signs follow DESIGN.md §5: greeks per position (delta in
share-equivalents, a short put > 0; theta in $ per calendar day, short premium
> 0; vega in $ per +1 vol point), implied volatility as a fraction.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from metrics.pricing import EQUITY_OPTION, FUTURE_OPTION, price_legs
from metrics.stored_legs import stored_legs
from portfolios.models import Portfolio
from thetavue_site import rls

_OPTIONS = frozenset({EQUITY_OPTION, FUTURE_OPTION})


# One statement writes every leg's pricing: the arrays are unnested into rows.
_WRITE = """
UPDATE positions p SET
    implied_volatility = CASE WHEN v.is_option THEN coalesce(v.iv, p.implied_volatility) END,
    iv_status = v.iv_status, greeks_source = v.greeks_source,
    delta = v.delta, gamma = v.gamma, theta = v.theta, vega = v.vega, updated_at = %s
FROM unnest(%s::bigint[], %s::boolean[], %s::float8[], %s::text[], %s::text[],
            %s::float8[], %s::float8[], %s::float8[], %s::float8[])
     AS v(id, is_option, iv, iv_status, greeks_source, delta, gamma, theta, vega)
WHERE p.id = v.id
"""


@transaction.atomic
def positions_reprice(*, portfolio: Portfolio, now: dt.datetime | None = None) -> int:
    """Price every stored leg of the portfolio at ``now`` and store IV and greeks.

    One read into columns, one vectorised ``price_legs`` call, one UPDATE; the
    portfolio's ``sync_version`` is bumped (so cached metrics go stale) and its
    ``updated_at`` set to ``now``, the as-of time of a manual portfolio's
    metrics. Legs that cannot be priced get NULL greeks and source "none". An
    option keeps its stored IV when pricing used none (no underlying price,
    expired): a trader's own IV must survive until the leg can be priced with
    it; stock and futures store none. Return the number of legs written.
    """
    now = now or timezone.now()
    # Lock the portfolio row first, as the portfolio services do before
    # editing legs, so a concurrent edit waits instead of being overwritten.
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).values_list("pk").first()
    legs = stored_legs(portfolio_id=portfolio.pk)
    if len(legs):
        pricing = price_legs(legs.inputs, now=now, rate=settings.RISK_FREE_RATE)
        priced = pricing.priced

        def greek(values: np.ndarray) -> list[float | None]:
            return _nullable(np.where(priced, values, np.nan))

        with connection.cursor() as cursor:
            cursor.execute(
                _WRITE,
                [
                    now,
                    legs.ids.tolist(),
                    np.isin(legs.inputs.instrument_type, list(_OPTIONS)).tolist(),
                    _nullable(pricing.iv),
                    pricing.iv_status.tolist(),
                    pricing.greeks_source.tolist(),
                    greek(pricing.position_delta),
                    greek(pricing.position_gamma),
                    greek(pricing.position_theta),
                    greek(pricing.position_vega),
                ],
            )
    Portfolio.objects.filter(pk=portfolio.pk).update(
        sync_version=F("sync_version") + 1, updated_at=now
    )
    portfolio.refresh_from_db(fields=["sync_version", "updated_at"])
    return len(legs)


def _nullable(values: np.ndarray) -> list[float | None]:
    """Floats for SQL: NaN and ±inf become NULL (never a number a trader can use)."""
    return [float(v) if math.isfinite(v) else None for v in values.tolist()]


def accounts_without_history(*, user_id: str, account_numbers: list[str]) -> set[str]:
    """Return which of the user's broker accounts have no history row yet (new to ThetaVue)."""
    from metrics.models import HistoricalMetric

    with rls.as_user(user_id):
        known = set(
            HistoricalMetric.objects.filter(
                portfolio__user_id=user_id, portfolio__broker_account_id__in=account_numbers
            )
            .values_list("portfolio__broker_account_id", flat=True)
            .distinct()
        )
    return set(account_numbers) - known


def portfolio_history_start(
    *, user_id: str, net_liq_by_account: dict[str, list[tuple[dt.date, Decimal | None]]]
) -> int:
    """Start the history of the user's newly synced accounts: broker net liq, then today.

    ``net_liq_by_account`` maps a broker account number to its end-of-day net
    liq ($) by New York date (possibly empty when the broker gave none).
    Returns the rows written.
    """
    from metrics.snapshot import history_start

    with rls.as_user(user_id):
        ids = dict(
            Portfolio.objects.filter(
                user_id=user_id, broker_account_id__in=list(net_liq_by_account)
            ).values_list("broker_account_id", "id")
        )
    if not ids:
        return 0
    return history_start(
        portfolio_ids=sorted(ids.values()),
        net_liq_history={
            ids[number]: points for number, points in net_liq_by_account.items() if number in ids
        },
    )
