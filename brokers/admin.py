from django.contrib import admin

from brokers.models import BrokerConnection, SyncRun

TIMESTAMPS = ("created_at", "updated_at")


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    extra = 0
    fields = (
        "started_at",
        "status",
        "duration_ms",
        "positions_added",
        "positions_updated",
        "positions_closed",
        "error",
    )
    readonly_fields = fields
    can_delete = False
    ordering = ("-started_at",)
    max_num = 0


@admin.register(BrokerConnection)
class BrokerConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "broker",
        "status",
        "last_synced_at",
        "consecutive_failures",
        "last_error_at",
    )
    list_filter = ("broker", "status")
    search_fields = ("user__email", "last_error")
    autocomplete_fields = ("user",)
    # Tokens are ciphertext and never shown, even to staff.
    exclude = ("access_token_encrypted", "refresh_token_encrypted")
    readonly_fields = (
        "environment",
        "access_token_expires_at",
        "scopes",
        "last_sync_started_at",
        "last_synced_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "transactions_cursor",
        *TIMESTAMPS,
    )
    list_select_related = ("user",)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "connection",
        "trigger",
        "status",
        "started_at",
        "duration_ms",
        "accounts_synced",
        "positions_added",
        "positions_updated",
        "positions_closed",
    )
    list_filter = ("status", "trigger")
    search_fields = ("connection__user__email", "error")
    autocomplete_fields = ("connection",)
    readonly_fields = ("timings", "started_at", "finished_at", "duration_ms", *TIMESTAMPS)
    list_select_related = ("connection", "connection__user")
    date_hierarchy = "started_at"
