"""The metrics REST API: thin adapters over metrics.selectors.

Viewsets on thetavue_site.api's OwnerScopedViewSet whose scope is the
requesting user's portfolios, so another trader's portfolio is a 404, never
a 403, and its cached metrics are never looked up: the owner check comes
before any cache read (DESIGN.md §6) and before the query string is read.
Query strings and bodies are strict (an unknown key is a 400 naming it);
errors are left to the one exception handler.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from metrics import selectors
from metrics.api import serializers as s
from portfolios.models import Portfolio
from portfolios.selectors import portfolio_list_for_user
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.api_input import JSONParser
from thetavue_site.users.idempotency import IdempotentMixin

TAG = "metrics"
NOT_FOUND = {
    404: OpenApiResponse(description="No such portfolio among yours (another trader's is 404).")
}
INVALID = {400: OpenApiResponse(description="Invalid input: `error.fields` names each bad field.")}


class PortfolioScopedViewSet(OwnerScopedViewSet):
    """Routes under /api/portfolio/: the scope is the user's portfolios."""

    queryset = Portfolio.objects.none()

    def owner_scope(self):
        return portfolio_list_for_user(user=self.request.user)


class PortfolioMetricsViewSet(PortfolioScopedViewSet):
    serializer_class = s.PortfolioMetricsOutput

    @extend_schema(
        tags=[TAG],
        summary="Real-time metrics of each of your portfolios",
        description="The same figures as /api/portfolio/{id}/metrics/, one item per "
        "portfolio, ordered by name.",
    )
    def list(self, request):
        portfolios = self.get_queryset().order_by("name", "id")
        page = self.paginate_queryset(portfolios)
        payloads = selectors.portfolio_metrics_many(portfolios=page)
        return self.get_paginated_response(s.PortfolioMetricsOutput(payloads, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Real-time metrics of one portfolio",
        description="Totals of the greeks stored on each leg by the last sync (or re-price of "
        "a manual book), beta-weighted delta, theta / net liq, buying power used, unrealised "
        "P/L and breakdowns per underlying and per strategy group, as of `as_of`. Cached "
        "until the portfolio's next sync.",
        responses={200: s.PortfolioMetricsOutput, **NOT_FOUND},
    )
    def retrieve(self, request, pk=None):
        payload = selectors.portfolio_metrics(portfolio=self.object)
        return Response(s.PortfolioMetricsOutput(payload).data)


class PortfolioHistoryViewSet(PortfolioScopedViewSet):
    serializer_class = s.HistoryOutput
    query_serializer_class = s.HistoryQueryInput

    @extend_schema(
        tags=[TAG],
        summary="Nightly metrics history of one portfolio",
        description="One row per New York trading day snapshotted, oldest first, with the "
        "day-over-day change in net liq.",
        parameters=[s.HistoryQueryInput],
        responses={200: s.HistoryOutput, **INVALID, **NOT_FOUND},
    )
    def retrieve(self, request, pk=None):
        history = selectors.portfolio_history(
            portfolio=self.object,
            date_from=self.query.get("from"),
            date_to=self.query.get("to"),
        )
        return Response(s.HistoryOutput(history).data)


class PortfolioWhatIfViewSet(IdempotentMixin, PortfolioScopedViewSet):
    serializer_class = s.WhatIfOutput
    # A what-if writes nothing, so read-only API tokens may ask for one too.
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        tags=[TAG],
        summary="Re-price the book on a grid of moves, IV shifts and days forward",
        description="Every leg re-priced (one vectorised call) with every underlying moved by "
        "each %, implied volatility shifted by each point and time moved forward; each cell "
        "gives the book's model value, its P/L against today's model value, and the greek "
        "totals. Each leg keeps its own model in every cell (American legs the QD+ "
        "early-exercise model, so a deep move can reach exercise: delta ±1 per share), and "
        "the zero cell's greeks are the book's totals. Nothing is stored, so read-only API "
        "tokens may ask for one too.",
        request=s.WhatIfInput,
        responses={200: s.WhatIfOutput, **INVALID, **NOT_FOUND},
        examples=[
            OpenApiExample(
                "Moves and IV shifts today",
                value={
                    "underlying_moves_pct": [-10, -5, 0, 5, 10],
                    "iv_shift_points": [-5, 0, 5],
                    "days_forward": 0,
                },
                request_only=True,
            )
        ],
    )
    def what_if(self, request, pk=None):
        grid = s.WhatIfInput(data=request.data)
        grid.is_valid(raise_exception=True)
        result = selectors.portfolio_what_if(portfolio=self.object, **grid.validated_data)
        return Response(s.WhatIfOutput(result).data)
