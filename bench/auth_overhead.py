"""4. Authenticated API endpoints returning ≤ 10 rows vs a trivial Django view.

Every request runs on the same stack in the same process (the test client
calls the WSGI handler, every middleware included; bench/urls.py adds the
trivial view to the app's URLs for this benchmark only). The trivial request
carries no credentials, so a ratio bounds what an authenticated request adds:
RS256 JWT verification (answered from the verified-token memory after the
first request), the user read in the round trip that sets the RLS context,
DRF, the endpoint's own queries and serialisation.

Ours, two rows: GET /api/auth/me (the caller, one row: what authentication
and the RLS set-up cost) and GET /api/portfolio/{id}/positions/ of a 10-leg
portfolio (one data statement more). Both with a Bearer session JWT. Floor:
GET /bench/trivial. Target ≤ 1.5×.

Also reported: bench/whoami, an authenticated view doing nothing (the least
any authenticated view costs here), and each request's split between SQL
(round trips included) and Python.
"""

from __future__ import annotations

from bench.positions_api import api_client, get_ok, positions_url, request_profile, seed_book
from bench.runner import Context, Result, interleaved, median

TARGET = 1.5
LEGS = 10
ME_PATH = "/api/auth/me"


def run(ctx: Context) -> list[Result]:
    from django.test import Client
    from django.test.utils import override_settings

    from bench.urls import TRIVIAL_PATH, WHOAMI_PATH

    user_id, portfolio_id = seed_book("authbench", LEGS, 5)
    client = api_client(ctx, user_id)
    anonymous = Client()
    url = positions_url(portfolio_id)
    trivial = f"/{TRIVIAL_PATH}"
    repeat = 15 if ctx.quick else 201
    with override_settings(ROOT_URLCONF="bench.urls"):
        me_times, me_floor = interleaved(
            lambda: get_ok(client, ME_PATH),
            lambda: get_ok(anonymous, trivial),
            repeat=repeat,
            warmup=5,
        )
        legs_times, legs_floor = interleaved(
            lambda: get_ok(client, url),
            lambda: get_ok(anonymous, trivial),
            repeat=repeat,
            warmup=5,
        )
        # The least any authenticated view costs here (JWT check, the user read
        # in the round trip that sets the RLS context, no view work).
        whoami_times, whoami_floor = interleaved(
            lambda: get_ok(client, f"/{WHOAMI_PATH}"),
            lambda: get_ok(anonymous, trivial),
            repeat=repeat,
            warmup=2,
        )
        split_me = request_profile(client, ME_PATH, 21)
        split_legs = request_profile(client, url, 21)
        split_trivial = request_profile(anonymous, trivial, 21)
    common = {
        "floor_view": f"GET {trivial} (anonymous, same middleware: the RLS transaction included)",
        "runs": repeat,
        "authenticated_do_nothing_view_s": median(whoami_times),
        "authenticated_do_nothing_view_ratio": median(whoami_times) / median(whoami_floor),
        "trivial_split_median": split_trivial,
    }
    return [
        Result(
            name="4 auth'd /api/auth/me vs trivial",
            ours=median(me_times),
            floor=median(me_floor),
            target=TARGET,
            details={
                "endpoint": "GET /api/auth/me (Bearer session JWT; one row, the caller)",
                **common,
                "ours_split_median": split_me,
            },
        ),
        Result(
            name="4b auth'd 10 legs vs trivial",
            ours=median(legs_times),
            floor=median(legs_floor),
            target=TARGET,
            details={
                "endpoint": "GET /api/portfolio/{id}/positions/ (10 legs, Bearer session JWT)",
                **common,
                "ours_split_median": split_legs,
                "why_above_me": "one more statement (the page: ownership, count and legs as "
                "JSON), ~0.45 ms of planning and ~0.3 ms of execution by EXPLAIN ANALYZE",
            },
        ),
    ]
