"""Strict query strings and bodies, and the base of API views that are not resources.

Every key of a query string is read through a StrictInputSerializer: a key
the endpoint does not read is a 400 naming it (so `?form=2026-01-01` is not
silently the default), as is a key given twice where one value is read.
Besides the endpoint's own keys, `format` (DRF's format override) is always
known, and `limit` / `offset` on a list that paginates.

The check runs in `initial`, after authentication, permissions and
throttles: an anonymous caller still gets its 401 first. When the query is
refused on a detail route, the object is looked up first, so another
trader's object is a 404 whatever the query says; a valid query costs no
lookup of its own (`self.object` looks the object up once, on first use).

Every OwnerScopedViewSet takes the mixin; the one API view left without it
is Clerk's webhook, whose signed body is all it reads.
"""

from __future__ import annotations

import functools

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from thetavue_site.api.serializers import StrictInputSerializer


class NoQuery(StrictInputSerializer):
    """The query string of an endpoint that reads none: every key is unknown."""


class StrictInputMixin:
    """Validate the query string with `query_serializer_class` into `self.query`.

    Bodies are read with `body_input(SomeStrictInput)` in the handler.
    """

    query_serializer_class: type[StrictInputSerializer] = NoQuery

    def get_query_serializer_class(self) -> type[StrictInputSerializer]:
        return self.query_serializer_class

    def known_query_keys(self) -> frozenset[str]:
        """Keys read outside the endpoint's serializer: the format override and paging."""
        keys = {"format"}
        paginator = getattr(self, "paginator", None)
        if paginator is not None and self.pages():
            keys |= {paginator.limit_query_param, paginator.offset_query_param}
        return frozenset(keys)

    def pages(self) -> bool:
        """Whether this request answers a page (a viewset's list action)."""
        return getattr(self, "action", None) == "list"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            self.query = self.validate_query(request)
        except serializers.ValidationError:
            self.check_scope(kwargs)  # another trader's object: 404 before 400
            raise

    def check_scope(self, kwargs) -> None:
        """Raise Http404 unless the route's objects are the caller's (before a 400).

        Detail routes look their object up; routes nested under another
        object (a portfolio's positions) override this to resolve the parent.
        """
        if isinstance(self, GenericAPIView):
            lookup = self.lookup_url_kwarg or self.lookup_field
            if lookup in kwargs:
                self.object  # noqa: B018 - the lookup is the check

    @cached_property
    def object(self):
        """The detail route's object, looked up once."""
        return self.get_object()

    def validate_query(self, request) -> dict:
        serializer_class = self.get_query_serializer_class()
        params = request.query_params
        known = self.known_query_keys()
        if all(key in known for key in params) and _reads_nothing_when_empty(serializer_class):
            # The usual request (no key, or only paging): nothing to read or default.
            return {}
        query = serializer_class(data=params)
        query.ignored_keys = query.ignored_keys | known
        repeated = {
            key: ["Given more than once; give it once."]
            for key in params
            if len(params.getlist(key)) > 1
            and not isinstance(query.fields.get(key), serializers.ListField)
        }
        if repeated:
            raise serializers.ValidationError(repeated)
        query.is_valid(raise_exception=True)
        return query.validated_data

    def body_input(self, serializer_class: type[StrictInputSerializer]) -> dict:
        """Validate the request body with `serializer_class`; a 400 names each bad key."""
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data


@functools.cache
def _reads_nothing_when_empty(serializer_class: type[StrictInputSerializer]) -> bool:
    """Whether an empty query validates to {} without running the serializer.

    True when no field is required or has a default and no `validate` looks
    at the keys together (the OAuth callback's needs `code` and `state`).
    Fields as `get_fields()` builds them, once per class.
    """
    return serializer_class.validate is serializers.Serializer.validate and all(
        field.default is empty and not field.required
        for field in serializer_class().fields.values()
    )


class StrictApiView(StrictInputMixin, APIView):
    """Base of the API's commands and single reads (connect, sync, status, …).

    Resources are OwnerScopedViewSets; these views read their query string
    through a strict serializer, their body through a StrictInputSerializer
    (`body_input`), and leave every error to the one exception handler.
    """
