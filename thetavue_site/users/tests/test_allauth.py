"""Email + password sign-in (django-allauth) under Row Level Security, rate-limited."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse

from conftest import PASSWORD, login
from thetavue_site import rls
from thetavue_site.users.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ME = "/api/auth/me"


def current_context() -> tuple[str, str]:
    return rls._read_context()


def test_sign_in_with_email_and_password_finds_the_user_through_rls(client, alice):
    response = client.post(LOGIN, {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    me = client.get(ME)
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["auth_method"]) == ("user_alice", "session")


def test_email_lookup_is_case_insensitive(client, alice):
    response = client.post(LOGIN, {"login": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_shows_the_form_again(client, alice):
    response = client.post(LOGIN, {"login": "alice@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert client.get(ME).status_code == 401


@pytest.fixture
def private_cache(settings):
    """A Redis database of this test's own: suites running side by side flush db 0."""
    cache = dict(settings.CACHES["default"])
    cache["LOCATION"] = cache["LOCATION"].rsplit("/", 1)[0] + "/11"
    settings.CACHES = {"default": cache, "sessions": {**settings.CACHES["sessions"]}}
    yield
    from django.core.cache import caches

    caches["default"].clear()


def test_repeated_failed_sign_ins_get_429_with_retry_after(client, alice, private_cache):
    for _ in range(5):
        response = client.post(LOGIN, {"login": "alice@example.com", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(LOGIN, {"login": "alice@example.com", "password": "wrong"})
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    # Even the right password waits now, from this address: the limit is on the
    # (account, address) pair, not on the guess.
    response = client.post(LOGIN, {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 429


# --- Issue 19, finding 4: nobody can lock anyone else out ------------------------------

STRANGER_IP = "203.0.113.9"
OWNER_IP = "198.51.100.7"


def test_finding_4_a_stranger_cannot_lock_the_owner_out(alice, private_cache):
    # given: a stranger exhausts the failed sign-ins for alice's account
    stranger = Client(REMOTE_ADDR=STRANGER_IP)
    for _ in range(5):
        stranger.post(LOGIN, {"login": "alice@example.com", "password": "wrong"})
    blocked = stranger.post(LOGIN, {"login": "alice@example.com", "password": "wrong"})
    assert blocked.status_code == 429
    # when: alice signs in from her own address
    owner = Client(REMOTE_ADDR=OWNER_IP)
    response = owner.post(LOGIN, {"login": "alice@example.com", "password": PASSWORD})
    # then: she is in
    assert response.status_code == 302
    assert owner.get(ME).json()["id"] == alice.pk


def test_finding_4_one_address_is_limited_across_accounts(db, private_cache):
    stranger = Client(REMOTE_ADDR=STRANGER_IP)
    for n in range(10):
        response = stranger.post(LOGIN, {"login": f"user{n}@example.com", "password": "wrong"})
        assert response.status_code == 200
    response = stranger.post(LOGIN, {"login": "user99@example.com", "password": "wrong"})
    assert response.status_code == 429
    # another address is untouched
    other = Client(REMOTE_ADDR=OWNER_IP)
    assert other.post(LOGIN, {"login": "user1@example.com", "password": "x"}).status_code == 200


# --- Issue 19, finding 5: sign-up does not tell whether an email is registered ----------


@pytest.fixture
def production_sign_up(settings):
    """Sign-up as production configures it (DEBUG off: verification mandatory)."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    settings.ACCOUNT_PREVENT_ENUMERATION = True


def sign_up(email: str):
    return Client().post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_finding_5_sign_up_answers_a_taken_email_like_a_new_one(alice, production_sign_up):
    # when
    taken = sign_up("alice@example.com")
    fresh = sign_up("carol@example.com")
    # then: the same answer, and no "already registered" anywhere
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert "already" not in Client().get(taken["Location"]).content.decode().lower()
    # the owner of the taken address is told by email instead; one account stays
    assert [m.to for m in mail.outbox] == [["alice@example.com"], ["carol@example.com"]]
    assert "already" in mail.outbox[0].body.lower() or "account" in mail.outbox[0].subject.lower()
    with rls.as_service():
        assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_finding_5_production_settings_verify_email_and_prevent_enumeration():
    result = run_check_settings(
        "from django.conf import settings; "
        "print(settings.ACCOUNT_EMAIL_VERIFICATION, settings.ACCOUNT_PREVENT_ENUMERATION)"
    )
    assert result == "mandatory True"


def run_check_settings(code: str) -> str:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "-production-secret-for-the-check-" + "z" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "thetavue.example",
        "DJANGO_SETTINGS_MODULE": "thetavue_site.settings",
    }
    env.pop("ACCOUNT_EMAIL_VERIFICATION", None)
    result = subprocess.run(  # noqa: S603 - this interpreter, a snippet from this file
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_sign_up_creates_a_local_user_and_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "dana@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    with rls.as_service():
        user = User.objects.get(email="dana@example.com")
        from allauth.account.models import EmailAddress

        assert EmailAddress.objects.filter(user=user, primary=True).exists()
    assert re.fullmatch(r"local_[0-9a-f]{24}", user.clerk_id)
    assert client.get(ME).json()["id"] == user.clerk_id


def test_sign_up_with_a_taken_email_is_a_form_error_not_a_500(client, alice):
    response = client.post(
        "/accounts/signup/",
        {"email": "Alice@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    with rls.as_service():
        assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_password_reset_round_trip(client, alice):
    # given: the reset form finds alice by email while nobody is signed in
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)

    # when: the link is followed and a new password set
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link.group(1)
    new_password = "another-long-passphrase-77"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302

    # then: the new password signs in
    fresh = Client()
    response = fresh.post(LOGIN, {"login": "alice@example.com", "password": new_password})
    assert response.status_code == 302


def test_admin_login_goes_through_allauth_with_next(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_staff_signed_in_by_email_reach_the_admin(client, admin_user):
    client.post(LOGIN, {"login": "admin@example.com", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_signed_in_trader_on_admin_login_is_refused(alice_client):
    assert alice_client.get("/admin/login/").status_code == 403


class TestServiceContextIsNarrow:
    """Only anonymous requests to allauth's account-lookup views run as service."""

    def run_process_view(self, path: str, user) -> tuple[str, str]:
        from django.urls import resolve

        from thetavue_site.rls import RowLevelSecurityMiddleware

        request = RequestFactory().post(path)
        request.user = user
        request.resolver_match = match = resolve(path)
        with rls.as_user("user_alice"):
            RowLevelSecurityMiddleware(lambda r: None).process_view(
                request, match.func, match.args, match.kwargs
            )
            return current_context()

    def test_anonymous_sign_in_view_runs_as_service(self, alice):
        from django.contrib.auth.models import AnonymousUser

        assert self.run_process_view(LOGIN, AnonymousUser()) == ("", "on")

    def test_signed_in_user_on_the_sign_in_view_stays_themselves(self, alice):
        assert self.run_process_view(LOGIN, alice) == ("user_alice", "off")

    @pytest.mark.parametrize("path", ["/accounts/logout/", "/accounts/email/", ME])
    def test_other_views_never_run_as_service(self, alice, path):
        from django.contrib.auth.models import AnonymousUser

        assert self.run_process_view(path, AnonymousUser()) == ("user_alice", "off")


def test_signed_in_session_sees_only_its_own_rows_on_account_pages(alice, bob):
    from allauth.account.models import EmailAddress

    with rls.as_service():
        EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=True)
        EmailAddress.objects.create(user=bob, email=bob.email, primary=True, verified=True)
    client = login(Client(), alice)
    page = client.get(reverse("account_email")).content.decode()
    assert "alice@example.com" in page
    assert "bob@example.com" not in page
