"""The metrics REST API: thin adapters over metrics.selectors.

Every read starts from the requesting user's portfolios, so another trader's
portfolio is a 404, never a 403, and its cached metrics are never looked up:
the owner check comes before any cache read (DESIGN.md §6).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics import selectors
from metrics.api import serializers as s
from portfolios.models import Portfolio
from portfolios.selectors import portfolio_get_for_user, portfolio_list_for_user
from thetavue_site.api_input import JSONParser
from thetavue_site.users.idempotency import IdempotentMixin

TAG = "metrics"
NOT_FOUND = {
    404: OpenApiResponse(description="No such portfolio among yours (another trader's is 404).")
}
INVALID = {400: OpenApiResponse(description="Invalid input: `error.fields` names each bad field.")}


class PortfolioMetricsApi(APIView):
    @extend_schema(
        tags=[TAG],
        summary="Real-time metrics of one portfolio",
        description="Totals of the greeks stored on each leg by the last sync (or re-price of "
        "a manual book), beta-weighted delta, theta / net liq, buying power used, unrealised "
        "P/L and breakdowns per underlying and per strategy group, as of `as_of`. Cached "
        "until the portfolio's next sync.",
        responses={200: s.PortfolioMetricsOutput, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=pk)
        payload = selectors.portfolio_metrics(portfolio=portfolio)
        return Response(s.PortfolioMetricsOutput(payload).data)


class PortfolioMetricsListApi(generics.ListAPIView):
    serializer_class = s.PortfolioMetricsOutput
    queryset = Portfolio.objects.none()

    @extend_schema(
        tags=[TAG],
        summary="Real-time metrics of each of your portfolios",
        description="The same figures as /api/portfolio/{id}/metrics/, one item per "
        "portfolio, ordered by name.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        portfolios = portfolio_list_for_user(user=request.user).order_by("name", "id")
        page = self.paginate_queryset(portfolios)
        payloads = selectors.portfolio_metrics_many(portfolios=page)
        return self.get_paginated_response(s.PortfolioMetricsOutput(payloads, many=True).data)


class PortfolioHistoryApi(APIView):
    @extend_schema(
        tags=[TAG],
        summary="Nightly metrics history of one portfolio",
        description="One row per New York trading day snapshotted, oldest first, with the "
        "day-over-day change in net liq.",
        parameters=[s.HistoryQueryInput],
        responses={200: s.HistoryOutput, **INVALID, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=pk)
        query = s.HistoryQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        history = selectors.portfolio_history(
            portfolio=portfolio,
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
        )
        return Response(s.HistoryOutput(history).data)


class PortfolioWhatIfApi(IdempotentMixin, APIView):
    # A what-if writes nothing, so read-only API tokens may ask for one too.
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        tags=[TAG],
        summary="Re-price the book on a grid of moves, IV shifts and days forward",
        description="Every leg re-priced (one vectorised call) with every underlying moved by "
        "each %, implied volatility shifted by each point and time moved forward; each cell "
        "gives the book's model value, its P/L against today's model value, and the greek "
        "totals. Nothing is stored, so read-only API tokens may ask for one too.",
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
    def post(self, request, pk: int):
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=pk)
        grid = s.WhatIfInput(data=request.data)
        grid.is_valid(raise_exception=True)
        result = selectors.portfolio_what_if(portfolio=portfolio, **grid.validated_data)
        return Response(s.WhatIfOutput(result).data)
