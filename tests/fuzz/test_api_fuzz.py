"""Fuzz every API operation from our own OpenAPI schema (schemathesis), as a real user.

Bounded: a fixed number of generated cases per operation against a live
server. Every answer must be a non-5xx that conforms to the documented schema
(status, content type, body) — the error envelope included.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from brokers.models import BrokerConnection
from metrics.models import HistoricalMetric
from portfolios.tests.factories import make_book, make_portfolio, make_transaction
from thetavue_site import rls
from tradeplans.models import TradePlan, TradePlanStrategy

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CASES_PER_OPERATION = 25
SUMMARY = Path(django_settings.BASE_DIR) / "test-artifacts" / "fuzz-summary.json"
CALLS: dict[str, dict[int, int]] = {}


def generated_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


@pytest.fixture(scope="module")
def api_schema():
    # The coverage phase enumerates every boundary of every field regardless of
    # max_examples (minutes per run); property-based fuzzing stays bounded.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    loaded = schemathesis.openapi.from_dict(generated_schema(), config=config)
    # Calls go through the WSGI application in-process: the whole middleware
    # stack (auth, RLS transaction, idempotency) without a socket per case.
    loaded.app = get_wsgi_application()
    yield loaded
    SUMMARY.parent.mkdir(exist_ok=True)
    total = sum(sum(statuses.values()) for statuses in CALLS.values())
    SUMMARY.write_text(
        json.dumps({"operations": len(CALLS), "cases": total, "by_operation": CALLS}, indent=1)
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fuzz_user(db):
    """A trader with a little of everything, so ids in the schema's paths can exist."""
    from conftest import make_user

    user = make_user("fuzz@example.com", clerk_id="user_fuzz")
    with rls.as_service():
        manual = make_portfolio(owner=user, name="Manual")
        make_book(portfolio=manual, n_positions=6)
        synced = make_portfolio(owner=user, name="Synced", account_type="margin")
        make_transaction(portfolio=synced, broker_id=1)
        plan = TradePlan.objects.create(
            user=user, name="Plan", portfolio=manual, risk_per_trade=Decimal(500)
        )
        TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="short_put", allocation_percentage=40
        )
        HistoricalMetric.objects.create(
            portfolio=manual, date=dt.date(2026, 3, 2), net_liquidation_value=1
        )
        BrokerConnection.objects.create(user=user, environment="sandbox")
    return user


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the test's transaction must outlive each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=CASES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, fuzz_user, bearer_for, keep_test_connection):
    with override_settings(ALLOWED_HOSTS=["*"]):
        response = case.call_and_validate(
            headers={"Authorization": bearer_for(fuzz_user)},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )
    statuses = CALLS.setdefault(f"{case.method} {case.path}", {})
    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
