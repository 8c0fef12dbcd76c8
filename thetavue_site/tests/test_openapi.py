"""The OpenAPI document, the doc pages, and the API answering in the documented shapes."""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal

import jsonschema
import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from portfolios.selectors import market_today
from portfolios.tests.api_support import POSITION_EXTRAS, POSITION_FIELDS_DESIGN
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

PORTFOLIO_API_PATHS = [
    "/api/portfolio/",
    "/api/portfolio/{id}/",
    "/api/portfolio/{portfolio_id}/positions/",
    "/api/portfolio/{portfolio_id}/positions/{id}/",
    "/api/portfolio/{portfolio_id}/strategies/",
]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    # Loading the URLconf imports thetavue_site.monitoring, whose Prometheus
    # collector reads the database once when it registers.
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


# The document ----------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn turns any generator warning (a new endpoint without a
    # serializer, an unresolvable type…) into an error; --validate checks OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3.")


def test_schema_validates_in_python(schema):
    validate_schema(schema)


def test_security_schemes_are_clerk_jwt_and_api_token(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ClerkSession"]["type"] == "http"
    assert schemes["ClerkSession"]["scheme"] == "bearer"
    assert schemes["ClerkSession"]["bearerFormat"] == "JWT"
    assert schemes["ApiToken"]["scheme"] == "bearer"
    assert schemes["ApiToken"]["bearerFormat"] == "tv_…"
    operation = schema["paths"]["/api/portfolio/"]["get"]
    # Either one suffices: separate requirement objects (OR).
    assert {"ClerkSession": []} in operation["security"]
    assert {"ApiToken": []} in operation["security"]


def test_error_envelope_is_a_component_used_by_every_operation(schema):
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    portfolio_paths = {p: schema["paths"][p] for p in PORTFOLIO_API_PATHS}
    for path, operations in portfolio_paths.items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert {"401", "403"} <= set(errors), (path, method)
            if "{" in path:
                assert "404" in errors, (path, method)
            for response in errors.values():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorEnvelope"
    destroy = schema["paths"]["/api/portfolio/{id}/"]["delete"]
    assert "409" in destroy["responses"]


def test_position_component_has_the_design_fields(schema):
    position = schema["components"]["schemas"]["Position"]
    assert list(position["properties"]) == [
        "id",
        "portfolio_id",
        "symbol",
        "underlying_symbol",
        "instrument_type",
        "option_type",
        "strike_price",
        "expiration_date",
        "dte",
        "open_date",
        "quantity",
        "multiplier",
        "strategy_type",
        "strategy_group_id",
        "average_open_price",
        "mark",
        "previous_close",
        "underlying_price",
        "implied_volatility",
        "iv_status",
        "greeks_source",
        "beta",
        "premium_received",
        "current_value",
        "unrealized_pnl",
        "fees_since_open",
        "pnl_open",
        "pnl_day",
        "delta",
        "gamma",
        "theta",
        "vega",
        "rho",
        "exercise_style",
        "exercise_style_source",
        "iv_rank",
        "iv_percentile",
        "updated_at",
    ]
    assert set(position["properties"]) == set(POSITION_FIELDS_DESIGN) | set(POSITION_EXTRAS)
    assert set(position["required"]) == set(position["properties"])


@pytest.mark.parametrize(
    ("field", "kind", "unit"),
    [
        ("premium_received", "string", "$"),
        ("current_value", "string", "$"),
        ("unrealized_pnl", "string", "$"),
        ("strike_price", "string", "per share"),
        ("mark", "string", "$"),
        ("delta", "number", "share-equivalents"),
        ("theta", "number", "$ per calendar day"),
        ("vega", "number", "vol point"),
        ("rho", "number", "percentage point of the risk-free rate"),
        ("iv_rank", "number", "fraction 0-1"),
        ("iv_percentile", "number", "not the same number as iv_rank"),
        ("implied_volatility", "number", "0.25 = 25 %"),
        ("beta", "number", "SPY"),
        ("quantity", "number", "short < 0"),
    ],
)
def test_units_and_signs_are_in_the_descriptions(schema, field, kind, unit):
    prop = schema["components"]["schemas"]["Position"]["properties"][field]
    assert prop["type"] == kind
    assert unit in prop["description"]


def test_portfolio_totals_carry_units(schema):
    props = schema["components"]["schemas"]["Portfolio"]["properties"]
    assert "share-equivalents" in props["total_delta"]["description"]
    assert "$ per calendar day" in props["total_theta"]["description"]
    assert list(props).index("total_rho") == list(props).index("total_vega") + 1
    assert props["total_rho"]["type"] == "number"
    assert "$ per +1 percentage point of the risk-free rate" in props["total_rho"]["description"]
    assert props["net_liquidation_value"]["type"] == "string"


# Black-76 holds the futures price fixed, so rho is −T × price / 100: negative
# for a long futures call too, unlike a long equity call.
RHO_FUTURES_SIGN = "futures options (Black-76, the futures price held fixed) −T × price / 100"


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Position", "rho"),
        ("Portfolio", "total_rho"),
        ("PortfolioMetricsOutput", "total_rho"),
        ("UnderlyingBreakdownOutput", "rho"),
        ("StrategyBreakdownOutput", "rho"),
    ],
)
def test_rho_descriptions_give_the_sign_per_model(schema, component, field):
    description = schema["components"]["schemas"][component]["properties"][field]["description"]
    assert "percentage point of the risk-free rate" in description
    assert RHO_FUTURES_SIGN in description
    assert "long put < 0" in description
    assert "≤ 0" in description
    # The old note stated the equity sign as if it held for every option.
    assert "(a long call is > 0)" not in description
    assert "(a long call adds > 0)" not in description


def test_exercise_style_is_an_enum_of_the_two_styles_or_blank(schema):
    components = schema["components"]["schemas"]
    prop = components["Position"]["properties"]["exercise_style"]
    allowed = set()
    for branch in prop["oneOf"]:
        allowed |= set(components[branch["$ref"].rsplit("/", 1)[1]]["enum"])
    assert allowed == {"American", "European", ""}
    assert "discrete dividends are not modelled" in prop["description"]
    assert "empty string for stock and futures" in prop["description"]


def test_exercise_style_source_is_an_enum_of_broker_table_or_blank(schema):
    components = schema["components"]["schemas"]
    prop = components["Position"]["properties"]["exercise_style_source"]
    allowed = set()
    for branch in prop["oneOf"]:
        allowed |= set(components[branch["$ref"].rsplit("/", 1)[1]]["enum"])
    assert allowed == {"broker", "table", ""}
    assert "instrument data" in prop["description"]


def test_positions_list_documents_filters_and_csv(schema):
    operation = schema["paths"]["/api/portfolio/{portfolio_id}/positions/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {
        "underlying",
        "strategy_type",
        "instrument_type",
        "expiring_within_days",
        "ordering",
        "limit",
        "offset",
        "format",
    } <= set(parameters)
    assert parameters["expiring_within_days"]["schema"]["minimum"] == 0
    assert set(parameters["format"]["schema"]["enum"]) == {"json", "csv"}
    assert "clamped" in parameters["limit"]["description"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}


# Responses match the documented shapes ---------------------------------------------


def _strict(node):
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null branch; objects are closed."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def assert_matches(schema: dict, body, component: str) -> None:
    document = {
        "$ref": f"#/components/schemas/{component}",
        "components": {"schemas": _strict(copy.deepcopy(schema["components"]["schemas"]))},
    }
    jsonschema.validate(body, document)


def _response_component(schema, path, method="get", code="200") -> str:
    content = schema["paths"][path][method]["responses"][code]["content"]
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


@pytest.fixture
def populated(alice):
    expiry = market_today() + dt.timedelta(days=14)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, cash_balance=Decimal("10.00"))
        make_book(portfolio=portfolio, n_positions=3)
        leg = make_short_put(portfolio=portfolio, expiration=expiry, strike=Decimal("410.5"))
        make_portfolio(owner=alice, name="Empty")
    return portfolio, leg


@pytest.mark.django_db
def test_each_get_endpoint_answers_in_its_documented_shape(schema, populated, alice_api):
    portfolio, leg = populated
    endpoints = {
        "/api/portfolio/": "/api/portfolio/",
        "/api/portfolio/{id}/": f"/api/portfolio/{portfolio.pk}/",
        "/api/portfolio/{portfolio_id}/positions/": f"/api/portfolio/{portfolio.pk}/positions/",
        "/api/portfolio/{portfolio_id}/positions/{id}/": (
            f"/api/portfolio/{portfolio.pk}/positions/{leg.pk}/"
        ),
        "/api/portfolio/{portfolio_id}/strategies/": f"/api/portfolio/{portfolio.pk}/strategies/",
    }
    for template, url in endpoints.items():
        response = alice_api.get(url)
        assert response.status_code == 200, url
        assert_matches(schema, response.json(), _response_component(schema, template))


@pytest.mark.django_db
def test_write_endpoints_answer_in_their_documented_shapes(schema, alice_api):
    created = alice_api.post("/api/portfolio/", {"name": "Manual"}, format="json")
    assert created.status_code == 201
    assert_matches(
        schema, created.json(), _response_component(schema, "/api/portfolio/", "post", "201")
    )
    positions = f"/api/portfolio/{created.json()['id']}/positions/"
    expiry = market_today() + dt.timedelta(days=9)
    leg = alice_api.post(positions, {"symbol": f"SPY   {expiry:%y%m%d}C00600000", "quantity": 1})
    assert leg.status_code == 201
    template = "/api/portfolio/{portfolio_id}/positions/"
    assert_matches(schema, leg.json(), _response_component(schema, template, "post", "201"))


@pytest.mark.django_db
def test_errors_answer_in_the_envelope_shape(schema, populated, alice_api, bob_api):
    portfolio, _ = populated
    responses = [
        bob_api.get(f"/api/portfolio/{portfolio.pk}/"),
        alice_api.get(f"/api/portfolio/{portfolio.pk}/positions/?expiring_within_days=-1"),
        alice_api.post("/api/portfolio/", {"name": ""}, format="json"),
        APIClient().get("/api/portfolio/"),
    ]
    assert [r.status_code for r in responses] == [404, 400, 400, 401]
    for response in responses:
        assert_matches(schema, response.json(), "ErrorEnvelope")


# Doc pages -------------------------------------------------------------------------

ASSET_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _assets(html: str) -> list[str]:
    return ASSET_RE.findall(html)


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files():
    client = APIClient()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = _assets(html)
    assert assets, html
    for asset in assets:
        assert asset.startswith(("/static/", "/api/docs/")), asset
    assert "<script>" not in html  # no inline script: the CSP refuses them
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/static/drf_spectacular_sidecar/swagger-ui-dist/{name}" in assets
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    assert "http://" not in script.content.decode() and "https://" not in script.content.decode()


@pytest.mark.django_db
def test_redoc_is_served_from_local_static_files():
    response = APIClient().get("/api/redoc/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "googleapis" not in html
    assets = _assets(html)
    # The sidecar's bundle, served patched (its sidebar logo is remote) from our own URL.
    assert assets == ["/api/redoc/redoc.standalone.js"]
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert 'spec-url="/api/schema/"' in html


@pytest.mark.django_db
def test_schema_endpoint_serves_the_document():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/portfolio/" in response.json()["paths"]
