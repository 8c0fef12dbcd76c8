"""Structured log lines carry the request id and the user id."""

import json
import logging

import pytest

from thetavue_site.observability import JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(RequestContextFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_lines_logged_during_a_request_carry_its_ids(alice_client, alice):
    handler = Collect()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = alice_client.get("/api/does-not-exist", HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    assert handler.lines, "Django logs a warning for a 404"
    assert {(line["request_id"], line["user_id"]) for line in handler.lines} == {
        ("req-42", alice.pk)
    }
