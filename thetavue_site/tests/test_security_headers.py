"""Security headers, CSP without inline scripts, request size limits, /metrics access."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_csp_allows_no_inline_or_foreign_scripts(client):
    response = client.get("/healthz")
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_standard_security_headers(client):
    response = client.get("/healthz")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert len(response["X-Request-ID"]) >= 16


def test_request_id_is_echoed_when_safe(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="bad id <script>")["X-Request-ID"]
        != "bad id <script>"
    )


def test_oversized_body_is_413(alice_api):
    response = alice_api.post(
        "/api/tastytrade/sync", data=b"{" + b" " * 2_000_000 + b"}", content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_finding_8_metrics_are_not_public_to_loopback(client, alice_client):
    # Behind a reverse proxy on the same host, every request comes from loopback.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 404
    assert alice_client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_finding_8_metrics_answer_signed_in_staff(admin_client):
    admin_client.get("/healthz")
    allowed = admin_client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert allowed.status_code == 200
    assert b"thetavue_http_request_seconds" in allowed.content
    assert b"thetavue_sync_runs_24h" in allowed.content


def test_finding_8_metrics_allow_list_setting_is_refused_at_boot():
    from thetavue_site.tests.test_settings import run_check

    result = run_check(METRICS_ALLOWED_IPS="127.0.0.1")
    assert result.returncode != 0
    assert "METRICS_ALLOWED_IPS" in result.stderr
    assert "Traceback" not in result.stderr


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_answer_a_bearer_token(client):
    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    assert response.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
