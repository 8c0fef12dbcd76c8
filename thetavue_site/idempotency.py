"""Idempotency-Key for API POSTs: a repeat returns the stored response, creates nothing.

A POST under /api/ carrying `Idempotency-Key` is answered once; a repeat
with the same key and the same body gets the stored response (marked with
`Idempotent-Replayed: true`); the same key with a different body gets 422.
Runs inside the RLS middleware's transaction, so the stored response and the
rows the request created commit (or roll back) together.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection
from django.http import JsonResponse

from thetavue_site.api.errors import error_body
from thetavue_site.rls import request_identity

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 200


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER, "")
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        user_id = request_identity(request)
        if not user_id:
            return self.get_response(request)  # the view answers 401
        if len(key) > MAX_KEY_LENGTH:
            return JsonResponse(
                error_body(
                    "invalid",
                    f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters.",
                    {"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]},
                ),
                status=400,
            )
        from thetavue_site.users.models import IdempotencyKey

        fingerprint = _fingerprint(request)
        # Serialise requests with the same key: the second waits, then replays.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"idem:{user_id}:{key}"]
            )
        stored = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        if stored is not None:
            if stored.request_fingerprint != fingerprint:
                return JsonResponse(
                    error_body(
                        "idempotency_key_reused",
                        "This Idempotency-Key was used with a different request.",
                        {"Idempotency-Key": ["Already used with another body or path."]},
                    ),
                    status=422,
                )
            response = JsonResponse(stored.response_body, status=stored.response_status, safe=False)
            response["Idempotent-Replayed"] = "true"
            return response

        response = self.get_response(request)
        if 200 <= response.status_code < 300 and response.get("Content-Type", "").startswith(
            "application/json"
        ):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            IdempotencyKey.objects.create(
                user_id=user_id,
                key=key,
                request_fingerprint=fingerprint,
                response_status=response.status_code,
                response_body=json.loads(response.content or b"null"),
            )
        return response
