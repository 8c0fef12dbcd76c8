"""Issue 19, finding 3: hostile input is a 4xx in the error envelope, never a 500."""

import json

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from thetavue_site import rls
from thetavue_site.api.pagination import MAX_LIMIT
from thetavue_site.api_input import MAX_JSON_DEPTH
from thetavue_site.users.models import Notification
from thetavue_site.users.tokens import api_token_create

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


def nested(depth: int) -> str:
    return '{"name": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("url", ["/api/portfolio/", "/api/trade-plans/"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 2000], ids=["just-over", "4kb"])
def test_finding_3_deeply_nested_json_is_400(alice_api, url, depth):
    response = alice_api.post(url, nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "parse_error",
            "message": f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.",
            "fields": {},
        }
    }


def test_finding_3_nesting_within_the_limit_reaches_the_serializer(alice_api):
    response = alice_api.post(
        "/api/portfolio/", nested(MAX_JSON_DEPTH - 1), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"  # the field's own complaint


@pytest.fixture
def alice_lists(alice):
    """Two rows in each list, so that a page shows its links."""
    with rls.as_service():
        for n in range(2):
            api_token_create(user=alice, name=f"t{n}", scope="read")
            Notification.objects.create(user=alice, kind="k", title=f"n{n}")


LISTS = ["/api/trade-plans/", "/api/auth/tokens", "/api/notifications/", "/api/portfolio/metrics/"]


@pytest.mark.parametrize("url", [*LISTS, "/api/portfolio/"])
@pytest.mark.parametrize(
    "limit", [HUGE, "1000000", "9" * 5000], ids=["huge", "million", "5000-digits"]
)
def test_finding_3_every_list_clamps_a_huge_limit(alice_api, alice_lists, url, limit):
    response = alice_api.get(url, {"limit": limit, "offset": 1})
    assert response.status_code == 200
    body = response.json()
    # `previous` carries the limit actually used
    assert body["previous"] is not None
    assert f"limit={MAX_LIMIT}" in body["previous"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("limit", ["0", "-5", "ten", "\x00"])
def test_finding_3_a_bad_limit_is_400_naming_it(alice_api, url, limit):
    response = alice_api.get(url, {"limit": limit})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["limit"]


def test_finding_3_the_limit_rule_is_documented(alice_api):
    schema = alice_api.get("/api/schema/", {"format": "json"}).json()
    assert f"at most {MAX_LIMIT}" in schema["info"]["description"]
    params = schema["paths"]["/api/auth/tokens"]["get"]["parameters"]
    [limit] = [p for p in params if p["name"] == "limit"]
    assert f"1 to {MAX_LIMIT}" in limit["description"]


@pytest.mark.parametrize("bound", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
@pytest.mark.parametrize("param", ["from", "to"])
def test_finding_3_history_dates_out_of_bounds_are_400(alice_api, alice, bound, param):
    from portfolios.tests.factories import make_portfolio

    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    response = alice_api.get(f"/api/portfolio/{portfolio.pk}/history/", {param: bound})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        param: ["Must be between 1900-01-01 and 2199-12-31."]
    }


def test_finding_3_position_dates_out_of_bounds_are_400(alice_api, alice):
    from portfolios.tests.factories import make_portfolio

    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    response = alice_api.post(
        f"/api/portfolio/{portfolio.pk}/positions/",
        {"symbol": "AAPL", "quantity": 1, "open_date": "0001-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "open_date" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "claims", [{"sub": "user_\x00alice"}, {"sub": "user_\u0007"}, {"sid": "sess_\x00"}]
)
def test_finding_3_jwt_claims_with_control_characters_are_401(clerk_settings, alice, claims):
    from conftest import session_claims

    claims = {"sub": "user_alice", **claims}
    token = clerk_settings.sign(session_claims(claims.pop("sub"), **claims))
    client = APIClient()
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_token",
        "message": "malformed claim",
        "fields": {},
    }


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_finding_3_unknown_api_url_is_the_json_envelope(client, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


@pytest.mark.urls("thetavue_site.users.tests.request_urls")
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_finding_3_a_crash_under_api_is_the_json_envelope(alice, debug):
    from conftest import login

    client = login(Client(raise_request_exception=False), alice)
    with override_settings(DEBUG=debug):
        response = client.get("/api/test/write-then-fail")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Internal error; it has been logged.",
            "fields": {},
        }
    }


def test_finding_3_browsable_api_errors_are_the_json_envelope_too(alice_api):
    response = alice_api.get("/api/portfolio/999999/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_finding_3_csrf_failure_under_api_is_the_json_envelope(alice):
    from conftest import login

    client = login(APIClient(enforce_csrf_checks=True), alice)
    response = client.post("/api/tastytrade/sync", {}, format="json")
    assert response.status_code == 403
    assert "error" in response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer \x00"},
        {"HTTP_AUTHORIZATION": "Bearer tv_\x00\x01"},
        {"HTTP_AUTHORIZATION": "Bearer " + "a" * 10000},
        {"HTTP_AUTHORIZATION": "Bearer a.b.c"},
        {"HTTP_ACCEPT": "\x00/\x00"},
        {"HTTP_X_REQUEST_ID": "\x00" * 100},
        {"HTTP_IDEMPOTENCY_KEY": "k\x00"},
        {"HTTP_IDEMPOTENCY_KEY": "ключ"},
    ],
    ids=lambda h: repr(h)[:40],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_finding_3_hostile_headers_are_4xx_in_the_envelope(clerk_settings, headers, method):
    client = Client()
    response = getattr(client, method)("/api/trade-plans/", **headers)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("name", "value"),
    [("CONTENT_TYPE", "application/json; charset=\x00"), ("HTTP_IDEMPOTENCY_KEY", "a\nb")],
)
def test_finding_3_control_characters_in_headers_are_400_before_django(name, value):
    import io

    from thetavue_site.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/trade-plans/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(b"{}"),
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": "2",
        "CONTENT_TYPE": "application/json",
        name: value,
    }
    started = []
    body = b"".join(application(environ, lambda status, headers: started.append(status)))
    assert started == ["400 Bad Request"]
    assert json.loads(body)["error"]["code"] == "bad_request"
