import base64
import hashlib

import pytest
import time_machine
from django.core import signing

from brokers.oauth_state import InvalidState, state_consume, state_issue


def test_state_is_accepted_once_for_its_user():
    state = state_issue(user_id="user_alice").state
    state_consume(state=state, user_id="user_alice")
    with pytest.raises(InvalidState, match="already used"):
        state_consume(state=state, user_id="user_alice")


def test_state_of_another_user_is_refused():
    state = state_issue(user_id="user_alice").state
    with pytest.raises(InvalidState, match="another user"):
        state_consume(state=state, user_id="user_bob")
    # Bob's attempt did not spend it: Alice can still finish her own flow.
    state_consume(state=state, user_id="user_alice")


def test_tampered_state_is_refused():
    state = state_issue(user_id="user_alice").state
    forged = signing.dumps({"u": "user_alice", "n": "guess"}, salt="wrong-salt")
    with pytest.raises(InvalidState, match="tampered"):
        state_consume(state=forged, user_id="user_alice")
    with pytest.raises(InvalidState, match="tampered"):
        state_consume(state=state[:-2] + "xx", user_id="user_alice")


def test_state_expires_after_ten_minutes():
    with time_machine.travel("2026-03-02 15:00:00Z", tick=False) as clock:
        state = state_issue(user_id="user_alice").state
        clock.shift(601)
        with pytest.raises(InvalidState, match="expired"):
            state_consume(state=state, user_id="user_alice")


def test_pkce_verifier_stays_server_side_and_matches_the_s256_challenge():
    issued = state_issue(user_id="user_alice")
    # The state the browser carries holds no verifier (only the user and a nonce).
    assert set(signing.loads(issued.state, salt="thetavue.brokers.oauth-state")) == {"u", "n"}
    verifier = state_consume(state=issued.state, user_id="user_alice")
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == issued.code_challenge
    assert issued.code_challenge_method == "S256"
    # Every flow has its own verifier.
    other = state_issue(user_id="user_alice")
    assert other.code_challenge != issued.code_challenge
