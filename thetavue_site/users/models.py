"""Users, personal API tokens, notifications and processed webhook ids."""

from __future__ import annotations

import secrets

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def local_clerk_id() -> str:
    """Return a fresh id for a user who signs in with email and password."""
    return f"local_{secrets.token_hex(12)}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("email is required")
        fields.setdefault("clerk_id", local_clerk_id())
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A trader or an admin; `clerk_id` is Clerk's `user_…` or a local `local_…` id."""

    clerk_id = models.TextField(primary_key=True, default=local_clerk_id)
    email = models.EmailField(blank=True, default="")
    display_name = models.CharField(max_length=200, blank=True, default="")
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    clerk_updated_at = models.BigIntegerField(
        null=True, blank=True, help_text="Clerk's updated_at (ms) of the last applied webhook."
    )
    notify_by_email = models.BooleanField(default=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="IANA zone the pages show times in (e.g. Europe/Berlin); empty until the "
        "browser reports one. The API always answers in UTC.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "clerk_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_email_unique_ci",
                condition=~models.Q(email=""),
            )
        ]

    def __str__(self) -> str:
        return self.email or self.clerk_id

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email


class ApiToken(models.Model):
    """A personal API token: `tv_…`, shown once, stored as a SHA-256 hash."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to recognise it."
    )
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.READ)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Notification(models.Model):
    """Something a trader should know: a failed sync, a plan breach."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    kind = models.CharField(max_length=50, help_text="Stable code, e.g. sync_failed, plan_breach.")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    link = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Path on this site to what the notification is about, e.g. /plans/3/.",
    )
    dedupe_key = models.CharField(
        max_length=200, blank=True, default="", help_text="One notification per key while unread."
    )
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key="") & models.Q(read_at__isnull=True),
                name="notifications_unread_dedupe_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ProcessedWebhook(models.Model):
    """A Clerk (Svix) message id already handled; retries are answered 200 and skipped."""

    message_id = models.CharField(max_length=100, primary_key=True)
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "processed_webhooks"

    def __str__(self) -> str:
        return self.message_id


class IdempotencyKey(models.Model):
    """A POST made with an Idempotency-Key header, and its answer when replayable.

    Scoped to the user, the credential (`principal`) and the route; lives 24 h.
    A `sensitive` answer (it carried a secret) is not stored: `response_body`
    stays null and a replay is refused.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="idempotency_keys")
    principal = models.CharField(
        max_length=64, help_text="The credential: session, clerk, dev or api_token:<id>."
    )
    route = models.CharField(max_length=500, help_text="The request path.")
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    sensitive = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "idempotency_keys"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "principal", "route", "key"],
                name="idempotency_keys_scope_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.key


class Consent(models.Model):
    """A trader's agreement to a version of the privacy text (GDPR/CCPA)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=50, help_text="e.g. broker_connection")
    text_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "consents"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.text_version}"
