"""The metrics API reads its query strings and bodies strictly: a key it does not read
is a 400 naming it; another trader's portfolio is a 404 whatever the query says."""

from __future__ import annotations

import pytest

from portfolios.tests.factories import make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db

UNKNOWN = ["Unknown field."]


def invalid(fields: dict[str, list[str]]) -> dict:
    name, reasons = next(iter(fields.items()))
    return {"error": {"code": "invalid", "message": f"{name}: {reasons[0]}", "fields": fields}}


@pytest.fixture
def portfolio(alice):
    with rls.as_service():
        return make_portfolio(owner=alice)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/portfolio/{pk}/metrics/", "flag=maybe"),
        ("/api/portfolio/{pk}/metrics/", "limit=5"),  # one portfolio: nothing to page
        ("/api/portfolio/{pk}/history/", "form=2026-01-01"),  # a typo of `from`
        ("/api/portfolio/metrics/", "flag=maybe"),
    ],
)
def test_reads_refuse_query_keys_they_do_not_read(alice_api, portfolio, path, query):
    response = alice_api.get(f"{path.format(pk=portfolio.pk)}?{query}")

    assert response.status_code == 400
    assert response.json() == invalid({query.split("=")[0]: UNKNOWN})


def test_the_list_pages_with_limit_and_offset_and_keeps_the_format_override(alice_api, portfolio):
    response = alice_api.get("/api/portfolio/metrics/", {"limit": 1, "offset": 0, "format": "json"})

    assert response.status_code == 200
    assert [item["portfolio_id"] for item in response.json()["results"]] == [portfolio.pk]


def test_history_refuses_a_date_given_twice(alice_api, portfolio):
    response = alice_api.get(
        f"/api/portfolio/{portfolio.pk}/history/?from=2026-01-01&from=2026-02-01"
    )

    assert response.status_code == 400
    assert response.json() == invalid({"from": ["Given more than once; give it once."]})


def test_what_if_refuses_unknown_query_and_body_keys(alice_api, portfolio):
    url = f"/api/portfolio/{portfolio.pk}/what-if"
    grid = {"underlying_moves_pct": [-5, 0, 5]}

    query = alice_api.post(f"{url}?dry_run=maybe", grid, format="json")
    body = alice_api.post(url, {**grid, "days": 3}, format="json")

    assert query.status_code == body.status_code == 400
    assert query.json() == invalid({"dry_run": UNKNOWN})
    assert body.json() == invalid({"days": UNKNOWN})


@pytest.mark.parametrize("path", ["metrics/", "history/"])
def test_another_traders_portfolio_is_404_whatever_the_query(bob_api, portfolio, path):
    response = bob_api.get(f"/api/portfolio/{portfolio.pk}/{path}?flag=maybe")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
