"""Every dashboard page: sign-in required, one trader's data only, flat query counts."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client

from tests.world import grow_book, page_urls

pytestmark = pytest.mark.django_db

SIGNED_IN_ONLY = [
    "/",
    "/portfolios/1/",
    "/plans/",
    "/plans/new/",
    "/plans/1/",
    "/connections/",
    "/account/",
    "/account/export",
    "/notifications/",
]

# Queries per page whatever the number of legs: 5 for every page (the test's
# savepoint and its release, RLS context, user, unread notifications in the
# navigation; the session is read from Redis) plus the page's own reads, listed.
PAGE_QUERIES = {
    # portfolios with connections, legs (metrics), 30 days of net liq, latest runs;
    # plan badge: active plans, their strategies, the portfolios' versions (its cache
    # key), and on a miss the book (portfolios, legs, transactions)
    "overview": 5 + 4 + 6,
    # portfolio with connection, legs (groups), legs (metrics), latest run, history;
    # plan badge (6 as above), the open breaches of the covering plans, the risk graph's legs
    "portfolio": 5 + 5 + 6 + 1 + 1,
    # plans, strategies, portfolio names; book: portfolios, legs, transactions
    "plans": 5 + 6,
    # plan, strategies, portfolio names; compliance: portfolios, legs, transactions
    "plan": 5 + 6,
    # connections, their portfolios, latest runs, latest consent
    "connections": 5 + 4,
    # tokens, consents
    "account": 5 + 2,
    # notifications
    "notifications": 5 + 1,
}


@pytest.mark.parametrize("url", SIGNED_IN_ONLY)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=")


def test_privacy_page_is_public(client):
    response = client.get("/privacy/")
    assert response.status_code == HTTPStatus.OK
    assert b"GDPR" in response.content


@pytest.mark.parametrize("page", list(PAGE_QUERIES))
def test_each_page_shows_its_owner_data_and_never_the_other_trader(
    page, alice_client, bob_client, alice_world, bob_world
):
    for client, mine, theirs, world in (
        (alice_client, b"Alicebook", b"Bobbook", alice_world),
        (bob_client, b"Bobbook", b"Alicebook", bob_world),
    ):
        response = client.get(page_urls(world)[page])
        assert response.status_code == HTTPStatus.OK
        assert mine in response.content
        assert theirs not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/portfolios/{portfolio}/",
        "/plans/{plan}/",
        "/connections/{connection}/status",
    ],
)
def test_another_traders_object_is_a_404(path, alice_client, alice_world, bob_world):
    url = path.format(
        portfolio=bob_world.portfolio.pk,
        plan=bob_world.plan.pk,
        connection=bob_world.connection.pk,
    )
    assert alice_client.get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "path",
    [
        "/portfolios/{portfolio}/what-if",
        "/plans/{plan}/delete",
        "/connections/{connection}/sync",
        "/connections/{connection}/disconnect",
        "/account/tokens/{token}/revoke",
        "/notifications/{notification}/read",
    ],
)
def test_another_traders_object_cannot_be_acted_on(path, alice_client, alice_world, bob_world):
    url = path.format(
        portfolio=bob_world.portfolio.pk,
        plan=bob_world.plan.pk,
        connection=bob_world.connection.pk,
        token=bob_world.token.pk,
        notification=bob_world.notification.pk,
    )
    assert alice_client.post(url).status_code == HTTPStatus.NOT_FOUND


def forget_cached_metrics() -> None:
    """Delete this run's cache entries, not the signed-in session (Redis holds both)."""
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:{cache.version}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.mark.parametrize("page", list(PAGE_QUERIES))
def test_query_count_is_the_same_at_10_and_500_legs(
    page, alice_client, alice_world, django_assert_num_queries
):
    url = page_urls(alice_world)[page]
    for legs in (10, 500):
        grow_book(alice_world, to_legs=legs)
        forget_cached_metrics()  # cached per sync version: measure the cold path
        with django_assert_num_queries(PAGE_QUERIES[page]):
            response = alice_client.get(url)
        assert response.status_code == HTTPStatus.OK


def test_the_overview_counts_the_same_with_a_warm_metrics_cache(
    alice_client, alice_world, django_assert_num_queries
):
    alice_client.get("/")
    # The cached metrics spare the legs query, the cached plan status the book's three.
    with django_assert_num_queries(PAGE_QUERIES["overview"] - 1 - 3):
        alice_client.get("/")


def test_a_signed_in_page_renders_for_a_trader_with_nothing_yet(alice):
    from conftest import login

    client = login(Client(), alice)
    for url in ("/", "/plans/", "/connections/", "/account/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
    assert b"No portfolios yet" in client.get("/").content
    assert b"No trade plans yet" in client.get("/plans/").content
