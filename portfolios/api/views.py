"""The portfolio REST API: thin adapters over portfolios.selectors and .services.

Every queryset starts from the requesting user's scope (thetavue_site.api's
OwnerScopedViewSet), so another trader's portfolio or leg is a 404, never a
403. The RLS middleware already runs the request in a transaction limited to
the user's rows; the ORM filter is the first line, RLS the last. Services'
domain errors reach the one exception handler untranslated.
"""

from __future__ import annotations

import functools

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response

from portfolios import selectors, services
from portfolios.api import portfolio_serializers as ps
from portfolios.api import serializers as s
from portfolios.api.renderers import PositionsCSVRenderer
from portfolios.models import Portfolio, Position
from portfolios.position_pages import UPDATED_AT_UTC, position_page
from thetavue_site.api.pagination import PositionsPagination
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.openapi import ERROR_RESPONSE
from thetavue_site.renderers import OrjsonRenderer, RawJSON
from thetavue_site.users.idempotency import IdempotentMixin

TAG_PORTFOLIOS = "portfolios"
TAG_POSITIONS = "positions"


# Portfolios ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List your portfolios with headline figures",
        description="Each portfolio with its net liquidation value, last sync and the totals "
        "of its legs' stored greeks (aggregated in the database).",
    ),
    retrieve=extend_schema(summary="One portfolio with headline figures"),
    create=extend_schema(
        summary="Create a manual portfolio",
        description="For positions held at a broker that is not synced. Broker accounts "
        "appear by themselves when a connection syncs.",
        request=ps.PortfolioCreateInput,
        responses={201: ps.PortfolioOutput},
    ),
    update=extend_schema(
        summary="Replace a portfolio's editable fields",
        description="A synced portfolio accepts `name` only; its other fields come from "
        "the broker (400 naming the field).",
        request=ps.PortfolioUpdateInput,
        responses={200: ps.PortfolioOutput},
    ),
    partial_update=extend_schema(
        summary="Change some of a portfolio's editable fields",
        description="A synced portfolio accepts `name` only; its other fields come from "
        "the broker (400 naming the field).",
        request=ps.PortfolioUpdateInput,
        responses={200: ps.PortfolioOutput},
    ),
    destroy=extend_schema(
        summary="Delete a portfolio and its legs",
        description="A synced portfolio needs `?confirm=true` (409 otherwise); its broker "
        "account is then skipped by future syncs until the broker is reconnected.",
        parameters=[ps.PortfolioDeleteQuery],
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(ERROR_RESPONSE, description="Confirmation required."),
        },
    ),
)
@extend_schema(tags=[TAG_PORTFOLIOS])
class PortfolioViewSet(IdempotentMixin, OwnerScopedViewSet):
    queryset = Portfolio.objects.none()
    serializer_class = ps.PortfolioOutput

    def owner_scope(self):
        return selectors.portfolio_summaries_for_user(user=self.request.user)

    def get_query_serializer_class(self):
        if self.action == "destroy":
            return ps.PortfolioDeleteQuery
        return super().get_query_serializer_class()

    def get_serializer_class(self):
        method = self.request.method if self.request else "GET"
        if method == "POST":
            return ps.PortfolioCreateInput
        if method in ("PUT", "PATCH"):
            return ps.PortfolioUpdateInput
        return ps.PortfolioOutput

    def _summary(self, portfolio: Portfolio) -> dict:
        fresh = selectors.portfolio_summary_get_for_user(
            user=self.request.user, portfolio_id=portfolio.pk
        )
        return ps.PortfolioOutput(fresh, context=self.get_serializer_context()).data

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ps.PortfolioOutput(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ps.PortfolioOutput(self.get_object()).data)

    def create(self, request):
        data = ps.PortfolioCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = services.portfolio_create(user=request.user, **data.validated_data)
        return Response(self._summary(portfolio), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        portfolio = self.get_object()
        data = ps.PortfolioUpdateInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.portfolio_update(portfolio=portfolio, data=data.validated_data)
        return Response(self._summary(portfolio))

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        portfolio = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        query = ps.PortfolioDeleteQuery(data={**body, **request.query_params.dict()})
        query.is_valid(raise_exception=True)
        services.portfolio_delete(portfolio=portfolio, confirm=query.validated_data["confirm"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# Positions -------------------------------------------------------------------


class PortfolioChildViewSet(IdempotentMixin, OwnerScopedViewSet):
    """Resources under /api/portfolio/{portfolio_id}/: the portfolio is resolved in scope."""

    _portfolio: Portfolio | None = None

    def get_portfolio(self) -> Portfolio:
        if self._portfolio is None:
            self._portfolio = selectors.portfolio_get_for_user(
                user=self.request.user, portfolio_id=self.kwargs["portfolio_id"]
            )
        return self._portfolio

    def check_scope(self, kwargs) -> None:
        self.get_portfolio()  # another trader's portfolio: 404 whatever the route
        super().check_scope(kwargs)

    def require_manual(self) -> Portfolio:
        portfolio = self.get_portfolio()
        if not portfolio.is_manual:
            raise services.PortfolioReadOnly(
                "This portfolio is synced from the broker: its legs are read-only."
            )
        return portfolio

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is never a CSV: fall back to the JSON envelope.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), PositionsCSVRenderer
        ):
            request.accepted_renderer = OrjsonRenderer()
            request.accepted_media_type = OrjsonRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


PORTFOLIO_ID = OpenApiParameter(
    "portfolio_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Portfolio id."
)
POSITIONS_CSV = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["json", "csv"],
    description="`csv`: every matching leg (not paginated) as text/csv, with the JSON's "
    "columns and their units in the header (e.g. premium_received_usd_credit_positive, "
    "theta_usd_per_day).",
)


@extend_schema_view(
    list=extend_schema(
        summary="List a portfolio's legs",
        description="Every leg with DESIGN.md §11's position fields, filtered, ordered and "
        "paginated; `?format=csv` for a spreadsheet.",
        parameters=[PORTFOLIO_ID, s.PositionListQuery, POSITIONS_CSV],
        responses={
            (200, "application/json"): s.PositionOutput(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="All matching legs as CSV."
            ),
        },
    ),
    retrieve=extend_schema(summary="One leg", parameters=[PORTFOLIO_ID]),
    create=extend_schema(
        summary="Add a leg to a manual portfolio",
        description="Give `symbol` (OCC option, ticker, future, futures option) or the parts "
        "(underlying_symbol, expiration_date, option_type, strike_price). premium_received "
        "and current_value are computed from average_open_price and mark. Synced "
        "portfolios' legs are read-only (403).",
        parameters=[PORTFOLIO_ID],
        request=s.PositionCreateInput,
        responses={201: s.PositionOutput},
    ),
    partial_update=extend_schema(
        summary="Change a manual leg",
        description="Quantity, multiplier, prices, IV, beta, dates and strategy hints; the "
        "contract (symbol and its parts) cannot change.",
        parameters=[PORTFOLIO_ID],
        request=s.PositionUpdateInput,
        responses={200: s.PositionOutput},
    ),
    destroy=extend_schema(
        summary="Remove a manual leg",
        parameters=[PORTFOLIO_ID],
        responses={204: OpenApiResponse(description="Deleted.")},
    ),
)
@extend_schema(tags=[TAG_POSITIONS])
class PositionViewSet(PortfolioChildViewSet):
    queryset = Position.objects.none()
    serializer_class = s.PositionOutput
    pagination_class = PositionsPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_query_serializer_class(self):
        if self.action == "list":
            return s.PositionListQuery
        return super().get_query_serializer_class()

    def get_renderers(self):
        renderers = [OrjsonRenderer(), BrowsableAPIRenderer()]
        if getattr(self, "action", None) == "list":
            renderers.append(PositionsCSVRenderer())
        return renderers

    def owner_scope(self):
        return selectors.position_list_for_user(user=self.request.user).filter(
            portfolio=self.get_portfolio()
        )

    def get_serializer_class(self):
        method = self.request.method if self.request else "GET"
        if method == "POST":
            return s.PositionCreateInput
        if method in ("PUT", "PATCH"):
            return s.PositionUpdateInput
        return s.PositionOutput

    def _row(self, position_id: int) -> dict:
        row = selectors.position_row_get(portfolio=self.get_portfolio(), position_id=position_id)
        return s.PositionOutput(row).data

    def list(self, request, portfolio_id=None):
        # One statement: ownership, the total and the page, written as JSON by
        # PostgreSQL (see position_pages).
        filters = s.PositionListQuery.to_filters(self.query)
        fetch = functools.partial(
            position_page, user_id=request.user.pk, portfolio_id=portfolio_id, filters=filters
        )
        updated_at = s.position_updated_at_writer()
        if isinstance(request.accepted_renderer, PositionsCSVRenderer):
            # Every matching leg, not paginated.
            filename = f"portfolio-{portfolio_id}-positions.csv"
            return Response(
                fetch().rows_with(updated_at=updated_at),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        limit, offset = self.paginator.get_limit(request), self.paginator.get_offset(request)
        page = fetch(limit=limit, offset=offset)
        if updated_at == UPDATED_AT_UTC:
            results = RawJSON(page.results_json)  # copied into the response as it is
        else:
            results = page.rows_with(updated_at=updated_at)
        response = self.paginator.respond_precounted(
            request, rows=results, count=page.count, limit=limit, offset=offset
        )
        # Legs the last sync could not read or price: out of the page and every total.
        response.data["legs_unsupported"] = page.unsupported
        return response

    def retrieve(self, request, portfolio_id=None, pk=None):
        return Response(self._row(pk))

    def create(self, request, portfolio_id=None):
        portfolio = self.require_manual()
        data = s.PositionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        position = services.position_create(portfolio=portfolio, data=data.validated_data)
        return Response(self._row(position.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, portfolio_id=None, pk=None):
        portfolio = self.require_manual()
        position = self.get_object()
        position.portfolio = portfolio
        data = s.PositionUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.position_update(position=position, data=data.validated_data)
        return Response(self._row(position.pk))

    def destroy(self, request, portfolio_id=None, pk=None):
        portfolio = self.require_manual()
        position = self.get_object()
        position.portfolio = portfolio
        services.position_delete(position=position)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="A portfolio's strategies",
        description="Legs grouped by strategy_group_id, with each group's type, legs, net "
        "credit, max profit/loss where defined and days to the nearest expiry.",
        parameters=[PORTFOLIO_ID],
    )
)
@extend_schema(tags=[TAG_POSITIONS])
class StrategyGroupViewSet(PortfolioChildViewSet):
    queryset = Position.objects.none()
    serializer_class = s.StrategyGroupOutput

    def owner_scope(self):
        return selectors.position_list_for_user(user=self.request.user).filter(
            portfolio=self.get_portfolio()
        )

    def list(self, request, portfolio_id=None):
        groups = selectors.strategy_groups(portfolio=self.get_portfolio())
        page = self.paginate_queryset(groups)
        return self.get_paginated_response(s.StrategyGroupOutput(page, many=True).data)
