"""Polish: a favicon, ReDoc with nothing remote and its worker allowed, readable admin lists."""

from __future__ import annotations

import pytest

from portfolios.tests.factories import make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_the_sites_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith(".svg") and "favicon" in response["Location"]


def test_redoc_allows_its_blob_worker_and_its_bundle_has_no_remote_logo(client):
    page = client.get("/api/redoc/")
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert "worker-src 'self' blob:" in policy
    assert "/api/redoc/redoc.standalone.js" in page.content.decode()
    bundle = client.get("/api/redoc/redoc.standalone.js")
    assert bundle.status_code == 200 and bundle["Content-Type"].startswith("text/javascript")
    body = b"".join(bundle) if bundle.streaming else bundle.content
    assert b"cdn.redoc.ly/redoc/logo-mini.svg" not in body
    assert b"favicon" in body


def test_admin_lists_read_as_a_person_would(admin_client, alice, bob):
    with rls.as_service():
        for owner in (alice, bob):
            portfolio = make_portfolio(owner=owner, name="Income")
            make_short_put(portfolio=portfolio, delta=6.653479527139796, theta=1.0, vega=-2.0)
    index = admin_client.get("/admin/").content.decode()
    assert "Trade plan breaches" in index and "Trade plan strategies" in index
    assert "breachs" not in index and "strategys" not in index
    positions = admin_client.get("/admin/portfolios/position/").content.decode()
    assert "6.65" in positions and "6.653479527139796" not in positions
    assert "-1.000000" not in positions
    assert alice.email in positions and bob.email in positions
