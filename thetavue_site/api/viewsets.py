"""The base of every API resource: a queryset that starts from the user's scope."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from thetavue_site.api.pagination import LimitOffsetPagination
from thetavue_site.api.views import StrictInputMixin


class OwnerScopedViewSet(StrictInputMixin, viewsets.GenericViewSet):
    """Base for tenant resources: `get_queryset` starts from `owner_scope()`.

    Subclasses narrow the scope, never widen it, so another trader's object
    is a 404. The query string is read strictly (api/views.py): each action
    names its keys with `query_serializer_class` / `get_query_serializer_class`.
    Errors are left to the one exception handler (api/errors.py), domain
    errors included.
    """

    pagination_class = LimitOffsetPagination

    def owner_scope(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation runs without a user; it only needs the model.
            return self.queryset
        return self.owner_scope()
