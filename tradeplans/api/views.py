"""The trade plan REST API: thin adapters over tradeplans.selectors and .services.

Every queryset starts from the requesting user's plans, so another trader's
plan is a 404, never a 403; the RLS middleware's transaction is the last
line behind that filter. A plan scoped to a portfolio that is not the
trader's (or does not exist) is a 400 naming ``portfolio``: the plan is the
resource addressed, and the same answer for "not yours" and "no such"
reveals nothing.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status
from rest_framework.response import Response

from thetavue_site.api.views import StrictApiView
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.users.idempotency import IdempotentMixin
from tradeplans import selectors, services
from tradeplans.api import serializers as s
from tradeplans.models import TradePlan

TAG = "trade plans"
# Described here; the shared postprocessing hook (thetavue_site.openapi) gives
# every error response the envelope's schema.
ERRORS = {
    400: OpenApiResponse(
        description="Invalid input: `error.fields` names each bad field, nested ones "
        'dotted ("strategies[1].delta_range_max"). Nothing was stored.'
    ),
    404: OpenApiResponse(description="No such plan among yours (another trader's is 404 too)."),
}
NOT_FOUND = {404: ERRORS[404]}

PORTFOLIO_FILTER = OpenApiParameter(
    "portfolio",
    str,
    required=False,
    description='Only plans scoped to this portfolio id; "all" for plans covering all of '
    "your portfolios.",
)
PLAN_FIELDS = (
    "name",
    "portfolio",
    "monthly_income_target",
    "risk_per_trade",
    "max_overnight_exposure",
    "is_active",
)


@extend_schema_view(
    list=extend_schema(
        summary="List your trade plans",
        parameters=[PORTFOLIO_FILTER],
        responses={200: s.TradePlanOutput(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(
        summary="One trade plan with its strategies",
        responses={200: s.TradePlanOutput, **NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a trade plan with its strategies",
        request=s.TradePlanInput,
        responses={201: s.TradePlanOutput, 400: ERRORS[400]},
    ),
    update=extend_schema(
        summary="Replace a trade plan, strategies included",
        description="Fields left out reset to their defaults; `strategies` left out means "
        "none. Nothing changes unless everything is valid.",
        request=s.TradePlanInput,
        responses={200: s.TradePlanOutput, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some of a trade plan's fields",
        description="`strategies`, when given, replaces the whole list. Nothing changes "
        "unless everything is valid.",
        request=s.TradePlanInput(partial=True),
        responses={200: s.TradePlanOutput, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a trade plan",
        responses={204: OpenApiResponse(description="Deleted."), **NOT_FOUND},
    ),
)
@extend_schema(tags=[TAG])
class TradePlanViewSet(
    IdempotentMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnerScopedViewSet
):
    queryset = TradePlan.objects.none()
    serializer_class = s.TradePlanOutput
    lookup_value_regex = "[0-9]+"

    def owner_scope(self):
        plans = selectors.trade_plan_list_for_user(user_id=self.request.user.pk)
        if self.action == "list":
            plans = self._filter(plans)
        return plans

    def get_query_serializer_class(self):
        if self.action == "list":
            return s.TradePlanListQuery
        return super().get_query_serializer_class()

    def _filter(self, plans):
        portfolio = self.query.get("portfolio")
        if portfolio is None:
            return plans
        if portfolio == "all":
            return plans.filter(portfolio__isnull=True)
        if not (portfolio.isascii() and portfolio.isdigit()) or int(portfolio) > s.MAX_ID:
            raise exceptions.ValidationError(
                {"portfolio": ['A portfolio id or "all" is required.']}
            )
        return plans.filter(portfolio_id=int(portfolio))

    def create(self, request):
        data = self._input(request, partial=False)
        plan = services.trade_plan_create(
            user_id=request.user.pk, fields=_plan_fields(data), strategies=data["strategies"]
        )
        return Response(self._output(plan), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        plan = self.get_object()
        data = self._input(request, partial=False)
        plan = services.trade_plan_replace(
            plan=plan, fields=_plan_fields(data), strategies=data["strategies"]
        )
        return Response(self._output(plan))

    def partial_update(self, request, pk=None):
        plan = self.get_object()
        data = self._input(request, partial=True)
        plan = services.trade_plan_update(
            plan=plan, fields=_plan_fields(data), strategies=data.get("strategies")
        )
        return Response(self._output(plan))

    def destroy(self, request, pk=None):
        services.trade_plan_delete(plan=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _input(self, request, *, partial: bool) -> dict:
        serializer = s.TradePlanInput(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _output(self, plan: TradePlan) -> dict:
        # Re-read through the user's scope: strategies as stored, one prefetch.
        fresh = selectors.trade_plan_get_for_user(user_id=plan.user_id, plan_id=plan.pk)
        return s.TradePlanOutput(fresh).data


def _plan_fields(data: dict) -> dict:
    return {name: data[name] for name in PLAN_FIELDS if name in data}


class TradePlanComplianceApi(StrictApiView):
    def check_scope(self, kwargs) -> None:
        selectors.trade_plan_get_for_user(user_id=self.request.user.pk, plan_id=kwargs["pk"])

    @extend_schema(
        tags=[TAG],
        summary="Measure a trade plan against the live book",
        description="Evaluates the book of the plan's scope as of the last sync: month-to-date "
        "income vs target (and pace), each group's max loss vs risk_per_trade (undefined "
        "risk is a breach), |BWD| in $ vs max_overnight_exposure, and per strategy: share of "
        "buying power vs allocation, open groups vs max_positions, short-leg position delta "
        "in range (short call < 0, short put > 0; a range with no negative bound compares "
        "|Δ|), "
        "credit per contract vs target_credit. Each check says which rule, the numbers and "
        "why; warn = within 10 % of a limit.",
        responses={200: s.ComplianceOutput, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        plan = selectors.trade_plan_get_for_user(user_id=request.user.pk, plan_id=pk)
        report = selectors.trade_plan_compliance(plan=plan, now=timezone.now())
        return Response(s.ComplianceOutput(s.compliance_payload(report)).data)
