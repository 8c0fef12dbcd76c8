"""One error body for the whole API (DESIGN.md §11), and the one mapper to it.

`{"error": {"code": "...", "message": "...", "fields": {"name": ["reason"]}}}`

Django's ValidationError, Http404 and PermissionDenied, and the domain error
bases of thetavue_site.domain_errors, are mapped here, so views raise or let
services raise and never build an error response themselves.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from thetavue_site import domain_errors


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"  # as thetavue_site.request_limits answers


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the resource's state."


class Refused(exceptions.APIException):
    """A 400 with its own code, for input that is well formed but refused (a spent state).

    `fields` names the refused input, as a validation error's would.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request was refused."

    def __init__(self, message: str, *, code: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message, code)
        self.fields = fields or {}


class Unavailable(exceptions.APIException):
    """A service the request needs (Redis, the broker) cannot answer now: 503."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "Temporarily unavailable; try again shortly."


class TooManyRequests(exceptions.Throttled):
    """429 with Retry-After (whole seconds) and the caller's own message.

    DRF's Throttled appends its own sentence about the wait; this one keeps
    the message as given, and the handler sets Retry-After from `wait`.
    """

    def __init__(self, message: str, *, retry_after: int):
        exceptions.APIException.__init__(self, message, self.default_code)
        self.wait = retry_after


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict[str, list[str]]:
    """Turn DRF's nested detail into {"field": ["reason"]}: nested keys dotted, list
    items indexed ("strategies[1].delta_range_max")."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(key, int):  # a list's bad items, as DRF reports them
                    walk(f"{prefix}[{key}]", inner)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
            for index, inner in enumerate(value):
                if inner:
                    walk(f"{prefix}[{index}]", inner)
        elif isinstance(value, list):
            fields.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
        else:
            fields.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return fields


def _django_validation_detail(error: DjangoValidationError):
    if hasattr(error, "error_dict"):
        return {
            key: [str(m) for e in errors for m in e.messages]
            for key, errors in error.error_dict.items()
        }
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, domain_errors.ReadOnly):
        exc = exceptions.PermissionDenied(str(exc), code="read_only")
    elif isinstance(exc, domain_errors.ConfirmationRequired):
        exc = Conflict(str(exc), code="confirmation_required")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # An unexpected error: Django logs it and answers 500.

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), None)
        message = f"{first[0]}: {first[1][0]}" if first else "Invalid input."
        body = error_body("invalid", message, fields)
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        if isinstance(detail, dict):
            message = str(detail.get("detail") or detail)
        else:
            message = str(detail) or str(getattr(exc, "default_detail", "Error"))
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            # One code for every authentication failure (DESIGN §7); the reason
            # is the message and the WWW-Authenticate error_description.
            code = "invalid_token"
        body = error_body(str(code), message, getattr(exc, "fields", None))
    response.data = body
    return response


def json_404(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)


def json_500(request, status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR):
    return JsonResponse(
        error_body("server_error", "Internal error; it has been logged."), status=status_code
    )


# Codes for errors that reach /api/ from outside DRF's exception handler:
# Django's own answers (unknown URL, CSRF, bad host, a crash with DEBUG on).
STATUS_CODES = {
    400: ("bad_request", "Bad request."),
    401: ("invalid_token", "Authentication required."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    406: ("not_acceptable", "Cannot answer in the requested format."),
    413: ("request_too_large", "Request body too large."),
    415: ("unsupported_media_type", "Unsupported media type."),
    429: ("throttled", "Too many requests."),
}


class ApiErrorEnvelopeMiddleware:
    """Make every error under /api/ the JSON envelope, whatever DEBUG says.

    Django answers some errors itself, before or around the view: an unknown
    URL, a CSRF failure, and with DEBUG on its technical 404 and 500 pages
    (which would also show settings and a traceback to an API client). Any
    non-JSON error response under /api/ is replaced by the envelope with the
    same status; the exception was already logged by then.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            if response.status_code >= 500:
                return json_500(request, status_code=response.status_code)
            code, message = STATUS_CODES.get(response.status_code, ("error", "Request failed."))
            replaced = JsonResponse(error_body(code, message), status=response.status_code)
            for header in ("Retry-After", "WWW-Authenticate", "Allow"):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response
