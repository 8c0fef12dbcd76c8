import pytest
import time_machine
from django.core import signing

from brokers.oauth_state import InvalidState, state_consume, state_issue


def test_state_is_accepted_once_for_its_user():
    state = state_issue(user_id="user_alice")
    state_consume(state=state, user_id="user_alice")
    with pytest.raises(InvalidState, match="already used"):
        state_consume(state=state, user_id="user_alice")


def test_state_of_another_user_is_refused():
    state = state_issue(user_id="user_alice")
    with pytest.raises(InvalidState, match="another user"):
        state_consume(state=state, user_id="user_bob")


def test_tampered_state_is_refused():
    state = state_issue(user_id="user_alice")
    forged = signing.dumps({"u": "user_alice", "n": "guess"}, salt="wrong-salt")
    with pytest.raises(InvalidState, match="tampered"):
        state_consume(state=forged, user_id="user_alice")
    with pytest.raises(InvalidState, match="tampered"):
        state_consume(state=state[:-2] + "xx", user_id="user_alice")


def test_state_expires_after_ten_minutes():
    with time_machine.travel("2026-03-02 15:00:00Z", tick=False) as clock:
        state = state_issue(user_id="user_alice")
        clock.shift(601)
        with pytest.raises(InvalidState, match="expired"):
            state_consume(state=state, user_id="user_alice")
