"""Fuzz the dashboards' HTML forms (hypothesis): no input a browser can send is a 5xx.

Each form gets values drawn from what a hostile or careless user types:
control characters and NUL, huge and negative numbers, exponents, long text,
non-ASCII. The answer may be a form error, a redirect, 403/404 or 429; it
must never be a server error. Bounded: a fixed number of examples per form.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import login
from portfolios.tests.factories import make_book, make_portfolio
from thetavue_site import rls
from tradeplans.forms import PLAN_FIELDS, STRATEGY_FIELDS
from tradeplans.models import TradePlan

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES_PER_FORM = 100

# Values at the edges of what columns and Python hold: out-of-range integers
# (PostgreSQL integer, bigint), too many digits, non-finite and exotic numbers.
EDGES = st.sampled_from(
    [
        "123456789012",
        "2147483648",
        "-2147483649",
        "9223372036854775808",
        "9" * 40,
        "-1",
        "1e308",
        "-1e-308",
        "NaN",
        "Infinity",
        "0x10",
        "１２",
        "\x00",
        "0001-01-01",
    ]
)
NUMBERISH = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
TEXTISH = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.just("x" * 5000),
)
VALUE = st.one_of(EDGES, NUMBERISH, TEXTISH, st.just(""))


def mutated(valid: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """A valid submission with one or two fields replaced by fuzz.

    Starting from a valid form makes the other fields pass, so the fuzzed
    value travels as far as the service and the database, where a missing
    bound would fail.
    """
    return st.dictionaries(st.sampled_from(sorted(valid)), VALUE, min_size=1, max_size=2).map(
        lambda changes: {**valid, **changes}
    )


VALID_PLAN = {
    "name": "Wheel",
    "portfolio": "",
    "monthly_income_target": "1500",
    "risk_per_trade": "800",
    "max_overnight_exposure": "20000",
    "is_active": "on",
    "strategies-0-strategy_type": "short_put",
    "strategies-0-allocation_percentage": "40",
    "strategies-0-max_positions": "3",
    "strategies-0-delta_range_min": "0.15",
    "strategies-0-delta_range_max": "0.35",
    "strategies-0-target_credit": "1.50",
    "strategies-1-strategy_type": "iron_condor",
    "strategies-1-allocation_percentage": "20",
    "strategies-1-max_positions": "",
    "strategies-1-delta_range_min": "",
    "strategies-1-delta_range_max": "",
    "strategies-1-target_credit": "",
}
assert {n.split("-")[-1] for n in VALID_PLAN if n.startswith("strategies-")} == set(STRATEGY_FIELDS)
assert set(PLAN_FIELDS) <= set(VALID_PLAN)


FUZZ = settings(
    max_examples=EXAMPLES_PER_FORM,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def trader(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Manual")
        make_book(portfolio=portfolio, n_positions=4)
        plan = TradePlan.objects.create(
            user=alice, name="Plan", portfolio=portfolio, risk_per_trade=Decimal(500)
        )
    return {"client": login(Client(), alice), "portfolio": portfolio, "plan": plan}


def assert_no_server_error(response, data):
    assert response.status_code < 500, (response.status_code, data)


@FUZZ
@given(plan=mutated(VALID_PLAN), edit=st.booleans())
def test_plan_editor_never_answers_5xx(trader, plan, edit):
    management = {
        "strategies-TOTAL_FORMS": "2",
        "strategies-INITIAL_FORMS": "0",
        "strategies-MIN_NUM_FORMS": "0",
        "strategies-MAX_NUM_FORMS": "22",
    }
    url = f"/plans/{trader['plan'].pk}/" if edit else "/plans/new/"
    data = {**plan, **management}
    assert_no_server_error(trader["client"].post(url, data), data)


@FUZZ
@given(data=mutated({"moves": "-5, 0, 5", "iv_shifts": "0", "days_forward": "0"}))
def test_what_if_form_never_answers_5xx(trader, data):
    url = f"/portfolios/{trader['portfolio'].pk}/what-if"
    assert_no_server_error(trader["client"].post(url, data), data)


@FUZZ
@given(data=mutated({"name": "sheet", "scope": "read"}))
def test_token_form_never_answers_5xx(trader, data):
    assert_no_server_error(trader["client"].post("/account/tokens", data), data)


@FUZZ
@given(data=mutated({"consent": "on"}))
def test_connect_form_never_answers_5xx(trader, data):
    assert_no_server_error(trader["client"].post("/connections/connect", data), data)


@FUZZ
@given(data=mutated({"error": "access_denied", "connected": "1"}))
def test_connections_page_query_never_answers_5xx(trader, data):
    assert_no_server_error(trader["client"].get("/connections/", data), data)


@FUZZ
@given(data=mutated({"login": "alice@example.com", "password": "wrong-password"}))
def test_sign_in_form_never_answers_5xx(db, data):
    assert_no_server_error(Client().post("/accounts/login/", data), data)


@FUZZ
@given(
    data=mutated(
        {"email": "new@example.com", "password1": "A-long-pass-91", "password2": "A-long-pass-91"}
    )
)
def test_sign_up_form_never_answers_5xx(db, data):
    assert_no_server_error(Client().post("/accounts/signup/", data), data)
