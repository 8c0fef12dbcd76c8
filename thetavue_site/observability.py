"""Request ids and structured logs: every line carries the request id and user id."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="-")

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
        }
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def _clean_request_id(value: str) -> str:
    value = (value or "").strip()
    if value and len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Tag the request and its log lines with an id; echo it in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = _clean_request_id(request.META.get(REQUEST_ID_HEADER, ""))
        # Not reset afterwards: Django logs the response after the middleware
        # chain returns, and those lines need the ids too. Each request sets both.
        request_id_var.set(request.request_id)
        user_id_var.set("-")
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


# OAuth callback parameters: a `code` is a one-time credential for a trader's
# broker account until it is exchanged, and `state` binds it to a session.
# Access logs (runserver's and gunicorn's) print whole request lines and
# referers, so both are masked wherever a log line could carry them.
_OAUTH_PARAMS = re.compile(r"(?<=[?&;])(code|state)=[^&;\s\"']*", re.IGNORECASE)
MASK = "***"


def mask_oauth_params(text: str) -> str:
    """Return `text` with the values of any `code=` and `state=` query parameters masked."""
    if "=" not in text:
        return text
    return _OAUTH_PARAMS.sub(rf"\1={MASK}", text)


class OAuthParamsMaskFilter(logging.Filter):
    """Mask OAuth `code` and `state` values in a log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_oauth_params(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
