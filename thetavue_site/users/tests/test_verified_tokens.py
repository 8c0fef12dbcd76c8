"""Verified session tokens are remembered per process, never past what verification allows."""

from __future__ import annotations

import time

import pytest
import time_machine

from conftest import rsa_key_pems, session_claims
from thetavue_site.users import clerk
from thetavue_site.users.verified_tokens import MAX_AGE_SECONDS, VerifiedTokens

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"
T0 = 1_780_000_000


def get_me(client, token: str):
    return client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_repeat_token_is_answered_from_memory(client, alice, clerk_settings):
    token = clerk_settings.sign(session_claims(alice.pk))
    assert get_me(client, token).status_code == 200
    remembered = clerk.VERIFIED.get(token, clerk._settings_fingerprint())
    assert remembered is not None and remembered[0]["sub"] == alice.pk
    assert get_me(client, token).json()["id"] == alice.pk


def test_a_remembered_token_still_expires(client, alice, clerk_settings):
    token = clerk_settings.sign(session_claims(alice.pk, iat=T0, nbf=T0 - 10, exp=T0 + 60))
    with time_machine.travel(T0 + 30, tick=False):
        assert get_me(client, token).status_code == 200
    with time_machine.travel(T0 + 64, tick=False):
        assert get_me(client, token).status_code == 200  # inside the 5 s leeway
    with time_machine.travel(T0 + 65, tick=False):
        response = get_me(client, token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == clerk.EXPIRED


def test_a_new_key_refuses_a_token_remembered_under_the_old_one(
    client, alice, clerk_settings, settings
):
    token = clerk_settings.sign(session_claims(alice.pk))
    assert get_me(client, token).status_code == 200
    settings.CLERK_JWT_KEY = rsa_key_pems()[1]  # rotated: the old signature no longer holds
    response = get_me(client, token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == clerk.INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("CLERK_ISSUER", "https://other.clerk.test", clerk.WRONG_ISSUER),
        ("CLERK_AUTHORIZED_PARTIES", ["https://app.thetavue.test"], clerk.UNAUTHORIZED_PARTY),
    ],
)
def test_changed_settings_verify_afresh(
    client, alice, clerk_settings, settings, setting, value, reason
):
    token = clerk_settings.sign(session_claims(alice.pk))
    assert get_me(client, token).status_code == 200
    setattr(settings, setting, value)
    response = get_me(client, token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == reason


def test_a_refused_token_is_not_remembered(clerk_settings, alice):
    token = clerk_settings.sign(session_claims(alice.pk, iss="https://other.clerk.test"))
    for _ in range(2):
        with pytest.raises(clerk.TokenRejected):
            clerk.verify_session_token(token)
    assert len(clerk.VERIFIED) == 0


class TestMemory:
    """The cache on its own, with an explicit clock."""

    CLAIMS = {"sub": "user_1", "exp": T0 + 3600}

    def test_an_entry_lives_at_most_max_age(self):
        memory = VerifiedTokens()
        memory.put("t", "config", self.CLAIMS, "clerk", now=T0)
        assert memory.get("t", "config", now=T0 + MAX_AGE_SECONDS - 1) is not None
        assert memory.get("t", "config", now=T0 + MAX_AGE_SECONDS) is None
        assert len(memory) == 0

    def test_an_entry_ends_when_exp_and_leeway_pass(self):
        memory = VerifiedTokens(leeway_seconds=5)
        memory.put("t", "config", {"sub": "u", "exp": T0 + 60}, "clerk", now=T0)
        assert memory.get("t", "config", now=T0 + 64.9) is not None
        assert memory.get("t", "config", now=T0 + 65) is None

    def test_another_config_misses(self):
        memory = VerifiedTokens()
        memory.put("t", "config", self.CLAIMS, "clerk", now=T0)
        assert memory.get("t", "other", now=T0) is None

    def test_the_least_recently_used_entry_goes_first(self):
        memory = VerifiedTokens(max_entries=2)
        for token in ("a", "b"):
            memory.put(token, "c", self.CLAIMS, "clerk", now=T0)
        assert memory.get("a", "c", now=T0) is not None  # "b" is now the oldest
        memory.put("c", "c", self.CLAIMS, "clerk", now=T0)
        assert memory.get("b", "c", now=T0) is None
        assert memory.get("a", "c", now=T0) is not None
        assert memory.get("c", "c", now=T0) is not None

    def test_callers_get_a_copy_of_the_claims(self):
        memory = VerifiedTokens()
        memory.put("t", "c", self.CLAIMS, "clerk", now=T0)
        memory.get("t", "c", now=T0)[0]["sub"] = "someone else"
        assert memory.get("t", "c", now=T0)[0]["sub"] == "user_1"

    def test_tokens_are_held_as_digests(self):
        memory = VerifiedTokens()
        memory.put("secret-token", "c", self.CLAIMS, "clerk", now=time.time())
        assert all(isinstance(key, bytes) and len(key) == 32 for key in memory._entries)
