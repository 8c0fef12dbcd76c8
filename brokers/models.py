"""Broker connections (encrypted OAuth tokens) and the record of each sync run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class BrokerConnection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SYNCING = "syncing", "Syncing"
        NEEDS_REAUTH = "needs_reauth", "Reconnect required"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disconnected"

    class Broker(models.TextChoices):
        TASTYTRADE = "tastytrade", "Tastytrade"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broker_connections"
    )
    broker = models.CharField(max_length=20, choices=Broker.choices, default=Broker.TASTYTRADE)
    environment = models.CharField(max_length=200, help_text="The API base URL tokens belong to.")
    # Ciphertexts (MultiFernet); each is bound to this row's id inside the payload.
    access_token_encrypted = models.TextField(blank=True, default="")
    refresh_token_encrypted = models.TextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    last_sync_started_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True, help_text="Last successful sync.")
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    transactions_cursor = models.DateField(
        null=True,
        blank=True,
        help_text="Transactions are fetched from a few days before this date.",
    )
    excluded_account_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Broker accounts the user deleted; not re-created by syncs.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "broker_connections"
        ordering = ["id"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.get_broker_display()} #{self.pk} ({self.user_id})"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    connection = models.ForeignKey(
        BrokerConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    trigger = models.CharField(
        max_length=20, default="schedule", help_text="schedule, manual, connect"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    progress = models.CharField(max_length=100, blank=True, default="", help_text="Current step.")
    accounts_synced = models.PositiveIntegerField(default=0)
    positions_added = models.PositiveIntegerField(default=0)
    positions_updated = models.PositiveIntegerField(default=0)
    positions_closed = models.PositiveIntegerField(default=0)
    transactions_added = models.PositiveIntegerField(default=0)
    # db_default: the sync creates its run rows in raw SQL.
    warnings = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Legs set aside (unreadable or unpriced) in a run that succeeded.",
    )
    requests_made = models.PositiveIntegerField(default=0)
    timings = models.JSONField(default=dict, blank=True, help_text="Milliseconds per step.")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sync_runs"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["connection", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="sync_runs_finished_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"
