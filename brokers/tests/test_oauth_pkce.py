"""OAuth with PKCE (S256): a code is exchanged only by the flow that asked for it.

Finding 2 of the security review: with Bob's code and her own state, Alice's
callback connected Bob's broker account to Alice. The verifier of Alice's
flow does not match the challenge Bob's code was issued against, so the
broker (here the sandbox, which enforces PKCE whenever it was asked for) refuses.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from brokers.models import BrokerConnection
from brokers.tastytrade.client import BrokerGrantInvalid
from brokers.tastytrade.oauth_client import build_authorize_url, exchange_code
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def consent_at_broker(authorize_url: str, login: str) -> dict[str, str]:
    response = requests.get(
        authorize_url,
        params={"sandbox_login": login, "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code in (302, 303), response.text
    return {k: v[0] for k, v in parse_qs(urlparse(response.headers["Location"]).query).items()}


def authorize_query(api) -> dict[str, str]:
    url = api.post("/api/tastytrade/connect").json()["authorize_url"]
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_connect_sends_an_s256_challenge_and_keeps_the_verifier(sandbox, alice_api):
    query = authorize_query(alice_api)
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert not {"code_verifier", "verifier"} & set(query)


def test_oauth_code_is_bound_to_whoever_started_the_connection(
    sandbox, alice_api, bob_api, alice, bob
):
    # given: Bob starts a connection and approves at the broker: his code
    bob_callback = consent_at_broker(
        bob_api.post("/api/tastytrade/connect").json()["authorize_url"], login="bob"
    )
    # and Alice starts her own connection (her own, valid state)
    alice_state = authorize_query(alice_api)["state"]
    # when: Alice's callback arrives with Bob's code and her own state
    response = alice_api.get(
        "/api/tastytrade/callback", {"code": bob_callback["code"], "state": alice_state}
    )
    # then: the exchange is refused and nothing is stored for either of them
    assert response.status_code == 302
    assert response["Location"].startswith("/connections/?error=")
    with rls.as_service():
        assert BrokerConnection.objects.count() == 0
    exchanges = sandbox.requests(path="/oauth/token")
    assert [entry.status for entry in exchanges] == [400]


def test_own_code_and_own_state_still_connect(sandbox, alice_api, alice):
    callback = consent_at_broker(
        alice_api.post("/api/tastytrade/connect").json()["authorize_url"], login="demo"
    )
    response = alice_api.get("/api/tastytrade/callback", callback)
    assert response.status_code == 302
    assert response["Location"].startswith("/connections/?connected=")
    with rls.as_user(alice.pk):
        assert BrokerConnection.objects.count() == 1


def test_client_sends_the_challenge_on_authorize_and_the_verifier_on_exchange(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    verifier = "v" * 20 + "-._~" + "x" * 30
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect_uri = sandbox.config.redirect_uris[0]

    def code() -> str:
        url = build_authorize_url(
            sandbox.authorize_url,
            sandbox.config.client_id,
            redirect_uri,
            "st",
            code_challenge=challenge,
        )
        response = requests.get(
            url + "&sandbox_login=demo&sandbox_approve=1", allow_redirects=False, timeout=5
        )
        return parse_qs(urlparse(response.headers["Location"]).query)["code"][0]

    exchange = {
        "client_id": sandbox.config.client_id,
        "client_secret": sandbox.config.client_secret,
        "redirect_uri": redirect_uri,
    }
    with pytest.raises(BrokerGrantInvalid):
        exchange_code(sandbox.base_url, code=code(), **exchange)
    tokens = exchange_code(sandbox.base_url, code=code(), code_verifier=verifier, **exchange)
    assert tokens.access_token
