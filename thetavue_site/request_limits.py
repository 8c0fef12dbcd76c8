"""Refuse oversized request bodies (413) and malformed header values (400) early."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import JsonResponse

from thetavue_site.api.errors import error_body


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                error_body(
                    "request_too_large",
                    f"The request body is {length} bytes; the limit is {limit} bytes.",
                ),
                status=413,
            )
        return self.get_response(request)


# Control characters other than tab, as RFC 9110 §5.5 forbids them in field
# values (gunicorn refuses them the same way).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class RefuseControlCharacterHeaders:
    """WSGI wrapper: a header value with control characters is a 400 before Django.

    Django parses Content-Type while building the request, before any
    middleware: a NUL in its charset raises ValueError there (a 500 that no
    handler sees). gunicorn already refuses such headers; this gives
    runserver and any other server the same answer.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        for name, value in environ.items():
            if (
                (name.startswith("HTTP_") or name == "CONTENT_TYPE")
                and isinstance(value, str)
                and _CONTROL_CHARACTERS.search(value)
            ):
                header = name.removeprefix("HTTP_").replace("_", "-").title()
                body = json.dumps(
                    error_body("bad_request", f"The {header} header holds control characters.")
                ).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.application(environ, start_response)
