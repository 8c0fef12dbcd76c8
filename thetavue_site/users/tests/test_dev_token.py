"""`manage.py dev_token <email>`: a local token the middleware trusts only while DEBUG is on."""

from __future__ import annotations

import io
import stat

import jwt
import pytest
from django.core.management import CommandError, call_command

from thetavue_site import rls
from thetavue_site.users.clerk import dev_public_key_path
from thetavue_site.users.models import User

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


@pytest.fixture
def dev_mode(settings, tmp_path):
    settings.DEBUG = True
    settings.DEV_TOKEN_KEY_PATH = tmp_path / "dev_token_key.pem"
    return settings


def dev_token(email: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("dev_token", email, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_token_for_a_new_email_creates_the_user_and_verifies(client, dev_mode):
    token = dev_token("erin@example.com")

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["auth_method"]) == ("erin@example.com", "dev")
    assert body["id"].startswith("local_")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["sid"].startswith("sess_dev_")
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "thetavue-dev"}


def test_existing_user_keeps_their_id_and_the_key_is_reused(client, alice, dev_mode):
    first = dev_token("ALICE@example.com")
    key_bytes = dev_mode.DEV_TOKEN_KEY_PATH.read_bytes()
    second = dev_token("alice@example.com")

    assert dev_mode.DEV_TOKEN_KEY_PATH.read_bytes() == key_bytes
    for token in (first, second):
        assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}").json()["id"] == "user_alice"
    with rls.as_service():
        assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_private_key_is_owner_only_and_public_half_sits_next_to_it(dev_mode):
    dev_token("erin@example.com")
    mode = stat.S_IMODE(dev_mode.DEV_TOKEN_KEY_PATH.stat().st_mode)
    assert mode == 0o600
    public = dev_public_key_path()
    assert public.parent == dev_mode.DEV_TOKEN_KEY_PATH.parent
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_refuses_to_run_with_debug_off(settings, tmp_path):
    settings.DEBUG = False
    settings.DEV_TOKEN_KEY_PATH = tmp_path / "dev_token_key.pem"
    with pytest.raises(CommandError, match="DEBUG"):
        dev_token("erin@example.com")
    assert not settings.DEV_TOKEN_KEY_PATH.exists()


def test_refuses_a_non_email(dev_mode):
    with pytest.raises(CommandError, match="not an email"):
        dev_token("erin")


def test_dev_tokens_are_refused_once_debug_is_off(client, alice, dev_mode):
    token = dev_token("alice@example.com")
    dev_mode.DEBUG = False
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    # Routed to the Clerk verifier, which has no such key or issuer.
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_regenerated_dev_key_refuses_the_old_token_at_once(client, alice, dev_mode):
    # Dev tokens are never answered from the verified-token memory: the key
    # file can change under the same settings.
    token = dev_token("alice@example.com")
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    dev_mode.DEV_TOKEN_KEY_PATH.unlink()
    dev_public_key_path().unlink()
    dev_token("bob@example.com")  # writes a new key pair
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_a_dev_issuer_token_signed_by_another_key_is_refused(client, alice, dev_mode):
    from conftest import rsa_key_pems, session_claims

    dev_token("alice@example.com")  # the real dev key exists
    forged = jwt.encode(
        session_claims("user_alice", iss=dev_mode.DEV_TOKEN_ISSUER),
        rsa_key_pems()[0],
        "RS256",
        headers={"kid": "thetavue-dev"},
    )
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert 'error_description="invalid signature"' in response["WWW-Authenticate"]
