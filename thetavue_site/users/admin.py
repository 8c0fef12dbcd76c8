from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from thetavue_site.users.models import (
    ApiToken,
    Consent,
    IdempotencyKey,
    Notification,
    ProcessedWebhook,
    User,
)

TIMESTAMPS = ("created_at", "updated_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "clerk_id", "display_name", "is_staff", "is_active", "created_at")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "clerk_id", "display_name")
    readonly_fields = ("clerk_id", "last_login", *TIMESTAMPS)
    fieldsets = (
        (None, {"fields": ("clerk_id", "email", "display_name", "password")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Notifications", {"fields": ("notify_by_email",)}),
        ("Dates", {"fields": ("last_login", *TIMESTAMPS)}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups", "user_permissions")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "scope", "last_used_at", "revoked_at", "created_at")
    list_filter = ("scope",)
    search_fields = ("name", "prefix", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("prefix", "last_used_at", *TIMESTAMPS)
    exclude = ("token_hash",)
    list_select_related = ("user",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "level", "kind", "read_at", "created_at")
    list_filter = ("level", "kind")
    search_fields = ("title", "body", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("user",)


@admin.register(ProcessedWebhook)
class ProcessedWebhookAdmin(admin.ModelAdmin):
    list_display = ("message_id", "event_type", "processed_at")
    search_fields = ("message_id", "event_type")
    readonly_fields = ("message_id", "event_type", "processed_at")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    # Read-only, and without the stored response: a body is the trader's data
    # (and was once a token's secret), not something staff need to read.
    list_display = ("key", "user", "principal", "route", "response_status", "created_at")
    search_fields = ("key", "user__email")
    fields = ("user", "principal", "route", "key", "response_status", "sensitive", *TIMESTAMPS)
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("user", "purpose", "text_version", "created_at")
    list_filter = ("purpose", "text_version")
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("user",)
