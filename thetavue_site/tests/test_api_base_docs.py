"""The API base's docstrings explain its machinery to developers; they never become an
endpoint's description in the published schema (drf-spectacular would otherwise fall
back on them for a view without a docstring of its own)."""

from __future__ import annotations

import inspect

import pytest
from drf_spectacular.generators import SchemaGenerator

from thetavue_site.api.views import StrictApiView, StrictInputMixin
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.users.idempotency import IdempotentMixin


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_no_operation_is_described_by_a_base_class(schema):
    bases = (StrictApiView, StrictInputMixin, OwnerScopedViewSet, IdempotentMixin)
    first_lines = [inspect.getdoc(base).splitlines()[0] for base in bases]
    descriptions = [
        operation.get("description", "")
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
    ]

    assert len(descriptions) > 40
    assert [d for d in descriptions if any(line in d for line in first_lines)] == []


def test_an_operation_keeps_its_own_docstring(schema):
    connections = schema["paths"]["/api/tastytrade/connections/"]["get"]

    assert connections["description"] == "The trader's broker connections: list, one, disconnect."
