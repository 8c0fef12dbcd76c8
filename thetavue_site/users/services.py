"""User writes: first sight of a token's subject, and Clerk's user.* webhooks."""

from __future__ import annotations

import logging
import zoneinfo
from functools import cache
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from thetavue_site import rls
from thetavue_site.users.models import User

logger = logging.getLogger(__name__)


def user_get_or_create_for_token(*, clerk_id: str) -> User:
    """Return the user a verified token names, creating it on first sight.

    Idempotent under concurrency: INSERT … ON CONFLICT DO NOTHING, then read.
    A second request racing the first waits on the primary key until the first
    commits, then reads its row.
    """
    # Inside a request the context is already this user: one query.
    user = User.objects.filter(pk=clerk_id).first()
    if user is not None:
        return user
    # The users policy compares clerk_id, so the insert runs as that user.
    with rls.as_user(clerk_id):
        candidate = User(clerk_id=clerk_id)
        candidate.set_unusable_password()
        User.objects.bulk_create([candidate], ignore_conflicts=True)
        return User.objects.get(pk=clerk_id)


@transaction.atomic
def user_get_or_create_local(
    *, email: str, password: str, display_name: str, is_staff: bool = False
) -> User:
    """Return the user with this email, creating a local (email + password) account.

    A new account's address is primary and verified, so it signs in at once
    (development logins: the demo trader and the admin). Staff are superusers.
    """
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    user = User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        is_staff=is_staff,
        is_superuser=is_staff,
    )
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    return user


@transaction.atomic
def user_update_profile(
    *, user: User, display_name: str | None = None, notify_by_email: bool | None = None
) -> User:
    """Change what a trader may change about themselves; None leaves a field alone."""
    changes = {
        field: value
        for field, value in (("display_name", display_name), ("notify_by_email", notify_by_email))
        if value is not None
    }
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=[*changes, "updated_at"])
    return user


def _primary_email(data: dict[str, Any]) -> str:
    primary_id = data.get("primary_email_address_id")
    for address in data.get("email_addresses") or []:
        if isinstance(address, dict) and address.get("id") == primary_id:
            return User.objects.normalize_email(str(address.get("email_address") or ""))
    return ""


def _display_name(data: dict[str, Any]) -> str:
    name = " ".join(str(data.get(part) or "").strip() for part in ("first_name", "last_name"))
    return (name.strip() or str(data.get("username") or "")).strip()[:200]


@transaction.atomic
def user_sync_from_clerk(*, data: dict[str, Any]) -> User | None:
    """Upsert a user from a Clerk `user.created`/`user.updated` payload.

    Deliveries are not ordered: a payload older than the stored `updated_at`
    (ms) is skipped. Returns the user, or None when the payload was skipped.
    Runs as service (the caller is the webhook).
    """
    clerk_id = str(data["id"])
    updated_at = data.get("updated_at")
    updated_at = int(updated_at) if isinstance(updated_at, int | float) else None
    with rls.as_service():
        candidate = User(clerk_id=clerk_id)
        candidate.set_unusable_password()
        User.objects.bulk_create([candidate], ignore_conflicts=True)
        # Lock the row: two deliveries for one user apply one after the other.
        user = User.objects.select_for_update().get(pk=clerk_id)
        if (
            updated_at is not None
            and user.clerk_updated_at is not None
            and updated_at < user.clerk_updated_at
        ):
            return None
        email = _primary_email(data)
        taken = (
            email
            and User.objects.annotate(email_ci=Lower("email"))
            .filter(email_ci=email.lower())
            .exclude(pk=clerk_id)
            .exists()
        )
        if taken:
            # Another account (a local sign-in) holds this address; keep ours.
            logger.warning("Clerk user %s: primary email already used by another user", clerk_id)
            email = user.email
        user.email = email
        user.display_name = _display_name(data)
        user.clerk_updated_at = updated_at if updated_at is not None else user.clerk_updated_at
        user.save(update_fields=["email", "display_name", "clerk_updated_at", "updated_at"])
        return user


def time_zone_problem(name: str) -> str | None:
    """Return why ``name`` is not an IANA time zone this server knows, or None."""
    if name not in available_time_zones():
        return f"{name!r} is not a time zone name such as Europe/Berlin or America/New_York."
    return None


def available_time_zones() -> frozenset[str]:
    """Return the IANA zone names the server's tz database holds."""
    return _zones()


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@transaction.atomic
def user_set_time_zone(*, user: User, time_zone: str, only_if_unset: bool = False) -> bool:
    """Store the user's time zone (a valid IANA name); return whether it changed.

    ``only_if_unset`` is the browser's first report: it never overrides a
    zone the trader chose on the account page.
    """
    problem = time_zone_problem(time_zone)
    if problem:
        raise ValidationError({"time_zone": problem})
    with rls.as_user(user.pk):
        rows = User.objects.filter(pk=user.pk)
        if only_if_unset:
            rows = rows.filter(time_zone="")
        changed = rows.exclude(time_zone=time_zone).update(time_zone=time_zone) > 0
    if changed:
        user.time_zone = time_zone
    return changed
