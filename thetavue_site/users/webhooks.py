"""Clerk webhooks, delivered by Svix (auth-and-rls.md §3).

The signature is the authentication. Each Svix message id is handled once: it
is inserted into processed_webhooks in the same transaction as the handling, so
a failure rolls both back and Svix's retry redoes the work.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from svix.webhooks import Webhook, WebhookVerificationError

from thetavue_site import rls
from thetavue_site.users.privacy import user_erase
from thetavue_site.users.services import user_sync_from_clerk

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """A delivery that does not verify; answered 400 so Svix shows it as failed."""


MESSAGE_ID_MAX_LENGTH = 100


def webhook_verify(*, body: bytes, headers: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """Check the Svix signature over the raw body and a 5-minute timestamp.

    Return (message id, event). The id is identical on every retry of a message.
    """
    secret = settings.CLERK_WEBHOOK_SECRET
    if not secret:
        logger.error("Clerk webhook received but CLERK_WEBHOOK_SECRET is not set")
        raise WebhookRejected("webhooks are not configured")
    try:
        # svix 2.x returns None; a signature header without a comma raises a
        # plain ValueError, bad base64 a binascii.Error (also a ValueError).
        Webhook(secret).verify(body, dict(headers))
    except (WebhookVerificationError, ValueError):
        raise WebhookRejected("invalid signature") from None
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRejected("body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise WebhookRejected("not a Clerk event")
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get("svix-id") or lowered.get("webhook-id") or ""
    if len(message_id) > MESSAGE_ID_MAX_LENGTH:
        raise WebhookRejected("message id too long")
    return message_id, event


CLERK_USER_PREFIX = "user_"


def _claim(message_id: str, event_type: str) -> bool:
    """Record the message id; return False when it was already processed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO processed_webhooks (message_id, event_type, processed_at) "
            "VALUES (%s, %s, now()) ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
            [message_id, event_type[:100]],
        )
        return cursor.fetchone() is not None


@transaction.atomic
def webhook_process(*, message_id: str, event: dict[str, Any]) -> str:
    """Apply one verified Clerk event once; return "processed", "duplicate" or "ignored"."""
    event_type = event["type"]
    with rls.as_service():
        if not _claim(message_id, event_type):
            return "duplicate"
        data = event.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            logger.warning("Clerk event %s (%s) without data.id: ignored", message_id, event_type)
            return "ignored"
        if event_type.startswith("user.") and not data["id"].startswith(CLERK_USER_PREFIX):
            # Clerk's user ids all start with user_; a local (email and password)
            # account's local_… id is not Clerk's to create, change or erase.
            logger.warning(
                "Clerk event %s (%s) for a non-Clerk id: ignored", message_id, event_type
            )
            return "ignored"
        if event_type in ("user.created", "user.updated"):
            user_sync_from_clerk(data=data)
        elif event_type == "user.deleted":
            user_erase(user_id=data["id"])
        else:
            return "ignored"
    logger.info("Clerk event %s (%s) processed for %s", message_id, event_type, data["id"])
    return "processed"
