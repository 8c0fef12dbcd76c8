"""5. The portfolio dashboard page with 500 legs vs the floor of benchmark 3.

Ours: GET the page named ``portfolios:detail`` in-process through the whole
stack (middleware, the Clerk ``__session`` cookie, RLS, selectors, metrics,
template rendering), with the metrics cache warm as a trader reloading the
page finds it (the first, cold request is reported too). Floor: benchmark 3's
floor (raw psycopg fetch of the same 500 rows + orjson) on the same book.
Target ≤ 4×, and the page's query count must not grow with the legs.

The page is the dashboards issue's; where it is not installed yet the row
says "not available" and this code runs as soon as the URL name resolves.
Static URLs use the plain storage: the manifest comes from `collectstatic`
at image build time, which the bench does not run into the work tree.
"""

from __future__ import annotations

import time

from bench import seed
from bench.positions_api import LEGS, SMALL, PositionsFloor, request_profile, seed_book
from bench.runner import Context, Result, interleaved, median, not_available

TARGET = 4.0
NAME = "5 dashboard page 500 legs"
PLAIN_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def page_client(ctx: Context, user_id: str):
    from django.test import Client

    client = Client()
    client.cookies["__session"] = seed.session_token(ctx.env.clerk_private_pem, user_id)
    return client


def get_page(client, url: str):
    response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response


def query_count(client, url: str) -> tuple[int, float]:
    """Return the queries and the seconds of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        get_page(client, url)
    return len(captured), time.perf_counter() - started


def run(ctx: Context) -> list[Result]:
    from django.test.utils import override_settings
    from django.urls import NoReverseMatch, reverse

    from portfolios.selectors import market_today

    try:
        reverse("portfolios:detail", args=[1])
    except NoReverseMatch:
        return [not_available(NAME, "no URL named portfolios:detail yet", TARGET)]

    big_user, big = seed_book("dash", LEGS, 6)
    small_user, small = seed_book("dashsmall", SMALL, 7)
    seed.analyze()
    big_url = reverse("portfolios:detail", args=[big])
    small_url = reverse("portfolios:detail", args=[small])
    big_client = page_client(ctx, big_user)
    small_client = page_client(ctx, small_user)
    repeat = 5 if ctx.quick else 25

    floor = PositionsFloor(ctx.env.database_url)
    try:
        with override_settings(STORAGES=PLAIN_STORAGES):
            # The first request of each book finds the metrics cache cold.
            cold_small, _ = query_count(small_client, small_url)
            cold_big, cold_seconds = query_count(big_client, big_url)
            warm_small, _ = query_count(small_client, small_url)
            warm_big, _ = query_count(big_client, big_url)
            today = market_today()
            ours_times, floor_times = interleaved(
                lambda: get_page(big_client, big_url),
                lambda: floor.get(big_user, big, today),
                repeat=repeat,
                warmup=1,
            )
            page_bytes = len(get_page(big_client, big_url).content)
            split = request_profile(big_client, big_url, 3 if ctx.quick else 9)
    finally:
        floor.close()
    return [
        Result(
            name=NAME,
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            checks={"queries 10 = 500": cold_small == cold_big and warm_small == warm_big},
            details={
                "legs": LEGS,
                "runs": repeat,
                "cold_first_request_s": cold_seconds,
                "page_bytes": page_bytes,
                "ours_split_median": split,
                "queries_at_10_legs": {"cold": cold_small, "warm": warm_small},
                "queries_at_500_legs": {"cold": cold_big, "warm": warm_big},
                "floor_is": "benchmark 3's floor on this page's 500-leg book",
            },
        )
    ]
