"""Consents: which version of the privacy text a trader agreed to, and for what."""

from __future__ import annotations

from typing import Any

from thetavue_site.users.models import Consent, User

# The version of templates/users/privacy.html a new consent refers to.
PRIVACY_TEXT_VERSION = "2026-11"


def consent_record(*, user: User, purpose: str, text_version: str) -> Consent:
    """Store that the user agreed to `text_version` of the privacy text for `purpose`."""
    return Consent.objects.create(user=user, purpose=purpose, text_version=text_version)


def consent_latest(*, user: User, purpose: str) -> dict[str, Any] | None:
    """Return the user's newest consent for `purpose` (text_version, created_at), or None."""
    return (
        Consent.objects.filter(user=user, purpose=purpose)
        .order_by("-created_at")
        .values("text_version", "created_at")
        .first()
    )
