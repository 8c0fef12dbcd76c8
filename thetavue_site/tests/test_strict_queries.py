"""Every API endpoint reads its query string strictly (thetavue_site/api/views.py).

A key an endpoint does not read is a 400 naming it, so a typo such as
`?undrlying=SPY` is not silently "every leg"; a key given twice is a 400;
paging keys are known on lists, `format` everywhere; another trader's object
is a 404 whatever the query says. The webhook is the one exception (it reads
only its signed body).
"""

from __future__ import annotations

import pytest

from thetavue_site import rls

pytestmark = pytest.mark.django_db

UNKNOWN = ["Unknown field."]


def first_leg(world) -> int:
    with rls.as_service():
        return world.portfolio.positions.order_by("pk").first().pk


def endpoints(world) -> list[str]:
    """One URL per read endpoint of portfolios, tradeplans and users."""
    portfolio, plan = world.portfolio.pk, world.plan.pk
    leg = first_leg(world)
    return [
        "/api/portfolio/",
        f"/api/portfolio/{portfolio}/",
        f"/api/portfolio/{portfolio}/positions/",
        f"/api/portfolio/{portfolio}/positions/{leg}/",
        f"/api/portfolio/{portfolio}/strategies/",
        "/api/trade-plans/",
        f"/api/trade-plans/{plan}/",
        f"/api/trade-plans/{plan}/compliance",
        "/api/auth/me",
        "/api/auth/export",
        "/api/auth/tokens",
        f"/api/auth/tokens/{world.token.pk}",
        "/api/notifications/",
        f"/api/notifications/{world.notification.pk}/",
    ]


def test_every_read_refuses_a_key_it_does_not_read(alice_api, alice_world):
    for url in endpoints(alice_world):
        response = alice_api.get(url, {"flag": "maybe"})

        assert response.status_code == 400, url
        assert response.json()["error"]["fields"] == {"flag": UNKNOWN}, url


def test_every_read_still_answers_without_a_query_and_with_the_format_override(
    alice_api, alice_world
):
    for url in endpoints(alice_world):
        assert alice_api.get(url).status_code == 200, url
        assert alice_api.get(url, {"format": "json"}).status_code == 200, url


def test_a_typo_in_a_positions_filter_is_a_400_not_every_leg(alice_api, alice_world):
    url = f"/api/portfolio/{alice_world.portfolio.pk}/positions/"

    typo = alice_api.get(url, {"undrlying": "SPY", "limit": 5, "offset": 0})
    filtered = alice_api.get(url, {"underlying": "NONE", "limit": 5, "offset": 0})

    assert typo.status_code == 400
    assert typo.json()["error"]["fields"] == {"undrlying": UNKNOWN}
    assert filtered.status_code == 200
    assert filtered.json()["count"] == 0


def test_lists_page_with_limit_and_offset_but_details_do_not(alice_api, alice_world):
    portfolio = alice_world.portfolio.pk

    for url in ("/api/portfolio/", "/api/trade-plans/", "/api/notifications/", "/api/auth/tokens"):
        assert alice_api.get(url, {"limit": 1, "offset": 0}).status_code == 200, url
    detail = alice_api.get(f"/api/portfolio/{portfolio}/", {"limit": 1})
    assert detail.status_code == 400
    assert detail.json()["error"]["fields"] == {"limit": UNKNOWN}


def test_a_filter_given_twice_is_a_400(alice_api, alice_world):
    url = f"/api/portfolio/{alice_world.portfolio.pk}/positions/?underlying=SPY&underlying=QQQ"

    response = alice_api.get(url)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "underlying": ["Given more than once; give it once."]
    }


def test_strict_booleans_and_filters_still_read(alice_api, alice_world):
    unread = alice_api.get("/api/notifications/", {"unread": "maybe"})
    plans = alice_api.get("/api/trade-plans/", {"portfolio": "all"})

    assert unread.status_code == 400
    assert set(unread.json()["error"]["fields"]) == {"unread"}
    assert plans.status_code == 200


def test_another_traders_objects_are_404_whatever_the_query(bob_api, alice_world):
    portfolio, plan = alice_world.portfolio.pk, alice_world.plan.pk
    leg = first_leg(alice_world)
    for url in (
        f"/api/portfolio/{portfolio}/",
        f"/api/portfolio/{portfolio}/positions/",
        f"/api/portfolio/{portfolio}/positions/{leg}/",
        f"/api/portfolio/{portfolio}/strategies/",
        f"/api/trade-plans/{plan}/",
        f"/api/trade-plans/{plan}/compliance",
        f"/api/auth/tokens/{alice_world.token.pk}",
        f"/api/notifications/{alice_world.notification.pk}/",
    ):
        response = bob_api.get(url, {"flag": "maybe"})

        assert response.status_code == 404, url


def test_deleting_a_portfolio_reads_confirm_from_the_query_and_refuses_other_keys(
    alice_api, alice_world
):
    url = f"/api/portfolio/{alice_world.portfolio.pk}/"

    typo = alice_api.delete(f"{url}?confirmed=true")
    refused = alice_api.delete(url)
    deleted = alice_api.delete(f"{url}?confirm=true")

    assert typo.status_code == 400
    assert typo.json()["error"]["fields"] == {"confirmed": UNKNOWN}
    assert refused.status_code == 409  # a synced portfolio needs confirm
    assert deleted.status_code == 204


def test_a_query_validated_as_a_whole_still_runs_when_empty(alice_api):
    # the OAuth callback needs code and state together (or an error): an empty
    # query is not the "nothing to read" fast path
    response = alice_api.get("/api/tastytrade/callback")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"code", "state"}
