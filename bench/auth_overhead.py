"""4. An authenticated API endpoint returning ≤ 10 rows vs a trivial Django view.

Both run on the same stack in the same process (the test client calls the
WSGI handler, every middleware included; bench/urls.py adds the trivial view
to the app's URLs for this benchmark only). The trivial request carries no
credentials, so the ratio bounds what an authenticated request adds: RS256
JWT verification with the cached PEM key, loading the user, the RLS context,
the endpoint's own queries and serialisation.

Ours: GET /api/portfolio/{id}/positions/ of a 10-leg portfolio with a Bearer
session JWT. Floor: GET /bench/trivial. Target ≤ 1.5×.

Also reported, to show where the difference goes: bench/whoami (the JWT
check and the user loaded in the RLS transaction, nothing else: the least
any authenticated view costs here), /api/auth/me, and each request's split
between SQL (round trips included) and Python.
"""

from __future__ import annotations

from bench.positions_api import api_client, get_ok, positions_url, request_profile, seed_book
from bench.runner import Context, Result, interleaved, median, timed

TARGET = 1.5
LEGS = 10


def run(ctx: Context) -> list[Result]:
    from django.test import Client
    from django.test.utils import override_settings

    from bench.urls import TRIVIAL_PATH, WHOAMI_PATH

    user_id, portfolio_id = seed_book("authbench", LEGS, 5)
    client = api_client(ctx, user_id)
    anonymous = Client()
    url = positions_url(portfolio_id)
    repeat = 15 if ctx.quick else 201
    with override_settings(ROOT_URLCONF="bench.urls"):
        ours_times, floor_times = interleaved(
            lambda: get_ok(client, url),
            lambda: get_ok(anonymous, f"/{TRIVIAL_PATH}"),
            repeat=repeat,
            warmup=5,
        )
        # Where the difference goes. The least any authenticated view costs
        # (JWT check, the user loaded inside the RLS transaction, no view work):
        # bench/urls.py's whoami; and the lightest app endpoint, /api/auth/me.
        whoami_times, trivial_again = interleaved(
            lambda: get_ok(client, f"/{WHOAMI_PATH}"),
            lambda: get_ok(anonymous, f"/{TRIVIAL_PATH}"),
            repeat=repeat,
            warmup=2,
        )
        me_times = [timed(lambda: get_ok(client, "/api/auth/me"))[0] for _ in range(repeat)]
        split_ours = request_profile(client, url, 21)
        split_trivial = request_profile(anonymous, f"/{TRIVIAL_PATH}", 21)
    return [
        Result(
            name="4 auth'd 10 rows vs trivial",
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            details={
                "endpoint": "GET /api/portfolio/{id}/positions/ (10 legs, Bearer JWT)",
                "floor_view": f"GET /{TRIVIAL_PATH} (anonymous, same middleware)",
                "runs": repeat,
                "authenticated_trivial_s": median(whoami_times),
                "authenticated_trivial_ratio": median(whoami_times) / median(trivial_again),
                "auth_me_s": median(me_times),
                "auth_me_ratio": median(me_times) / median(trivial_again),
                "ours_split_median": split_ours,
                "trivial_split_median": split_trivial,
            },
        )
    ]
