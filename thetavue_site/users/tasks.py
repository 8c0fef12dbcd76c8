"""Background work of the users app."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.models import Notification

# A mail server that refuses or cannot be reached is retried with exponential,
# jittered backoff (about 1 s, 2 s, 4 s … capped at 10 minutes), five times.
EMAIL_RETRY_MAX = 5


@shared_task(
    name="users.send_notification_email",
    soft_time_limit=30,
    time_limit=45,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=EMAIL_RETRY_MAX,
)
def notification_email_task(notification_id: int, user_id: str) -> None:
    """Email one notification to its owner, at most once."""
    with rls.as_user(user_id):
        notification = (
            Notification.objects.select_related("user").filter(pk=notification_id).first()
        )
        if notification is None:
            return  # Deleted (account erased) while the message waited in the queue.
        user = notification.user
        if not user.notify_by_email or not user.email:
            return  # Opted out after the notification was raised.
        # Claim by conditional UPDATE so a redelivered task sends nothing. A
        # failed send raises inside the as_user transaction, which rolls the
        # claim back, and autoretry_for queues the retry that sends again.
        claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            return
        send_mail(
            subject=f"ThetaVue: {notification.title}",
            message=notification.body or notification.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
