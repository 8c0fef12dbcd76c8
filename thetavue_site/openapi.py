"""OpenAPI pieces shared by every app's API: error envelope, security schemes, doc pages.

drf-spectacular finds the authentication extension by subclassing, so this
module must be imported before a schema is generated: SPECTACULAR_SETTINGS'
postprocessing hook lives here (importing it), and API views that reference
ERROR_RESPONSE import it too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from csp.decorators import csp_update
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import get_lib_doc_excludes
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from thetavue_site.api.views import StrictApiView, StrictInputMixin
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.users.idempotency import IdempotentMixin

# thetavue_site.api.errors.ErrorEnvelopeSerializer produces the same component
# under the same name where a view names it; whichever comes first is kept.
ERROR_COMPONENT = "ErrorEnvelope"
ERROR_REF = f"#/components/schemas/{ERROR_COMPONENT}"

# DESIGN.md §11: every error, whatever its status, has this body.
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every API error: {"error": {"code", "message", "fields"}}.',
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine-readable reason, e.g. invalid, invalid_token, "
                    "permission_denied, read_only, not_found, method_not_allowed, "
                    "confirmation_required, payload_too_large, throttled.",
                    "example": "invalid",
                },
                "message": {
                    "type": "string",
                    "description": "Human-readable summary; for `invalid`, the first field "
                    "and its reason.",
                    "example": "quantity: Must not be zero; a short position is negative.",
                },
                "fields": {
                    "type": "object",
                    "description": "For `invalid`: each bad field (nested ones dotted) with "
                    "its reasons; empty otherwise.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "example": {"quantity": ["Must not be zero; a short position is negative."]},
                },
            },
        }
    },
}
# Use as a response in extend_schema: {409: OpenApiResponse(ERROR_RESPONSE, ...)}.
ERROR_RESPONSE = {"$ref": ERROR_REF}

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `fields` names each bad field and why. Nothing was stored.",
    "401": "Not authenticated: missing, expired or invalid credentials.",
    "403": "Authenticated but not allowed (e.g. a read-only token writing, or a synced "
    "portfolio's legs).",
    "404": "No such object among yours (another user's objects are 404 too).",
    "409": "Idempotency-Key already used for a request whose answer carried a secret "
    "shown once; it is not replayed.",
    "422": "Idempotency-Key already used with a different request body.",
}

# Documented on every authenticated POST, so clients see it and the schema-driven
# fuzz run (tests/fuzz) sends it, valid and invalid.
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key, from the same credential, on the same "
    "path, with the same body, within 24 hours, gets the first answer again (with "
    "`Idempotent-Replayed: true`) and changes nothing. Checked after authentication and "
    "permissions. Answers carrying a secret (a new API token) are not stored: their "
    "retry is a 409. 1 to 200 printable ASCII characters; anything else is a 400.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"},
}
_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer …`: a Clerk session JWT, or a personal API token (tv_…)."""

    target_class = "thetavue_site.users.authentication.BearerAuthentication"
    match_subclasses = True
    name = ["ClerkSession", "ApiToken"]

    def get_security_requirement(self, auto_schema):
        # Either one is enough (OR), hence two requirement objects.
        return [{"ClerkSession": []}, {"ApiToken": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A Clerk session token (RS256 JWT) from the signed-in "
                "browser session. In development, `manage.py dev_token <email>` prints one.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "tv_…",
                "description": "A personal API token from /api/auth/tokens, prefixed `tv_`. "
                "Read-only tokens may use GET, HEAD and OPTIONS, and POST "
                "/api/portfolio/{id}/what-if (it computes and stores nothing); any other "
                "write is a 403 insufficient_scope.",
            },
        ]


def doc_excludes() -> list[type]:
    """Classes whose docstrings (and their bases') never describe an endpoint.

    drf-spectacular falls back on a base class's docstring for a view without
    one of its own; the API base's docstrings explain its machinery instead.
    """
    return [
        *get_lib_doc_excludes(),
        StrictApiView,
        StrictInputMixin,
        OwnerScopedViewSet,
        IdempotentMixin,
    ]


def _error_response(code: str) -> dict:
    return {
        "description": _ERROR_DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def postprocess_error_responses(result, generator, request, public):
    """Declare the envelope once and add the error statuses each operation can answer."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _WRITE_METHODS | {"get", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            security = operation.get("security")
            codes = []
            if security and {} not in security:
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if method in ("post", "put", "patch") or has_query:
                codes.append("400")
            if method == "post" and codes[:1] == ["401"]:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
                codes += ["409", "422"]
            for code in codes:
                responses.setdefault(code, _error_response(code))
            for code, response in responses.items():
                # Errors an operation declared itself (409, 429…) get the envelope too.
                if code >= "400" and "content" not in response:
                    response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
            operation["responses"] = dict(sorted(responses.items()))
    return result


class SwaggerUIView(SpectacularSwaggerSplitView):
    """Swagger UI from local static files; its start-up script is a separate request
    (`?script`), since the Content-Security-Policy refuses inline scripts."""


REMOTE_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@method_decorator(csp_update({"worker-src": ["'self'", "blob:"]}), name="dispatch")
class RedocView(SpectacularRedocView):
    """Redoc from local static files, without the web fonts the stock page links.

    Redoc runs its search in a Web Worker made from a blob: URL, which this
    page's policy allows (worker-src); its bundle is served patched (below).
    """

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone():
        return reverse("redoc-bundle")


@lru_cache(maxsize=1)
def _patched_redoc_bundle() -> bytes:
    """Redoc's bundle with its hard-wired remote logo pointed at our own favicon."""
    path = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    source = Path(path).read_text(encoding="utf-8")
    return source.replace(REMOTE_REDOC_LOGO, static("img/favicon.svg")).encode()


def redoc_bundle(request):
    """Serve the patched Redoc bundle: the sidebar's logo would otherwise leave the machine."""
    response = HttpResponse(_patched_redoc_bundle(), content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=86400"
    return response
