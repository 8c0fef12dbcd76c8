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


def test_metrics_answer_the_allow_list_only(client):
    client.get("/healthz")
    allowed = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert allowed.status_code == 200
    assert b"thetavue_http_request_seconds" in allowed.content
    assert b"thetavue_sync_runs_24h" in allowed.content
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_answer_a_bearer_token(client):
    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    assert response.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
