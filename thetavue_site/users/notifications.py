"""Notifications other apps raise (sync failures, plan breaches), and their emails."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.models import Notification, User
from thetavue_site.users.tasks import notification_email_task


@transaction.atomic
def notification_create(
    *,
    user_id: str,
    kind: str,
    level: str = Notification.Level.INFO,
    title: str,
    body: str = "",
    dedupe_key: str = "",
    link: str = "",
) -> Notification:
    """Tell `user_id` something; while one with `dedupe_key` is unread, return that one.

    A new notification is emailed after commit when the user wants emails.
    Callable from a request, `as_user` or `as_service`: it narrows to the owner.
    Raises User.DoesNotExist for an unknown user.
    """
    with rls.as_user(user_id):
        user = User.objects.only("clerk_id", "email", "notify_by_email").get(pk=user_id)
        if dedupe_key:
            existing = Notification.objects.filter(
                user_id=user_id, dedupe_key=dedupe_key, read_at__isnull=True
            ).first()
            if existing is not None:
                return existing
        try:
            # A savepoint: a concurrent twin with the same key hits the partial
            # unique index; this side then returns the twin's row.
            with transaction.atomic():
                notification = Notification.objects.create(
                    user_id=user_id,
                    kind=kind,
                    level=level,
                    title=title[:200],
                    body=body,
                    dedupe_key=dedupe_key,
                    link=link,
                )
        except IntegrityError:
            if not dedupe_key:
                raise
            return Notification.objects.get(
                user_id=user_id, dedupe_key=dedupe_key, read_at__isnull=True
            )
    if user.notify_by_email and user.email:
        notification_id = notification.pk
        transaction.on_commit(lambda: notification_email_task.delay(notification_id, user_id))
    return notification


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read; marking it again keeps the first time."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read; return how many."""
    now = timezone.now()
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )


@transaction.atomic
def notification_delete(*, notification: Notification) -> None:
    notification.delete()


def notification_prune(*, read_before: dt.datetime) -> int:
    """Delete notifications read before `read_before`, for every user; return how many."""
    with rls.as_service(), transaction.atomic():
        deleted, _ = Notification.objects.filter(
            read_at__isnull=False, read_at__lt=read_before
        ).delete()
    return deleted
