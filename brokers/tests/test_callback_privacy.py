"""Issue 19, finding 2 (logs and referers): the OAuth callback's code and state stay private."""

from __future__ import annotations

import datetime as dt
import io
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from gunicorn.config import Config

pytestmark = pytest.mark.django_db

CALLBACK = "/api/tastytrade/callback?code=SECRET-CODE-123&state=SIGNED.STATE.456"


@pytest.mark.parametrize(
    "query",
    [{"error": "access_denied", "state": "s"}, {"state": "s"}, {"code": "c", "state": "bad"}],
    ids=["declined", "missing-code", "bad-state"],
)
def test_finding_2_callback_answers_with_no_referrer(alice_api, query):
    response = alice_api.get("/api/tastytrade/callback", query)
    assert response.status_code in (302, 400)
    assert response["Referrer-Policy"] == "no-referrer"


def test_finding_2_other_pages_keep_the_site_referrer_policy(alice_api):
    assert alice_api.get("/api/auth/me")["Referrer-Policy"] == "same-origin"


def test_finding_2_runserver_access_log_masks_code_and_state():
    # given: the django.server logger as configured (runserver logs through it)
    logger = logging.getLogger("django.server")
    [handler] = logger.handlers
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        # when: runserver logs a callback request line (WSGIRequestHandler.log_message)
        logger.info('"%s" %s %s', f"GET {CALLBACK} HTTP/1.1", "302", "0")
    finally:
        handler.setStream(previous)
    # then
    line = captured.getvalue()
    assert "/api/tastytrade/callback?code=***&state=*** HTTP/1.1" in line
    assert "SECRET-CODE-123" not in line
    assert "SIGNED.STATE.456" not in line


def gunicorn_logger():
    """The access logger gunicorn builds from deploy/gunicorn.conf.py."""
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"))
    config = Config()
    config.set("accesslog", conf["accesslog"])
    config.set("logger_class", conf["logger_class"])
    return config.logger_class(config)


def test_finding_2_gunicorn_access_log_masks_code_and_state():
    glogger = gunicorn_logger()
    assert type(glogger) is import_string("thetavue_site.gunicorn_logging.MaskingLogger")
    captured = io.StringIO()
    for handler in glogger.access_log.handlers:
        handler.setStream(captured)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": CALLBACK,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/api/tastytrade/callback",
        "QUERY_STRING": CALLBACK.split("?", 1)[1],
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://thetavue.example{CALLBACK}",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    glogger.access(response, request, environ, dt.timedelta(milliseconds=12))
    line = captured.getvalue()
    assert '"GET /api/tastytrade/callback?code=***&state=*** HTTP/1.1" 302' in line
    assert "SECRET-CODE-123" not in line
    assert "SIGNED.STATE.456" not in line


def test_finding_2_masking_leaves_other_parameters_alone():
    from thetavue_site.observability import mask_oauth_params

    assert mask_oauth_params("/x?zipcode=1&code=a&mystate=2&state=b") == (
        "/x?zipcode=1&code=***&mystate=2&state=***"
    )
