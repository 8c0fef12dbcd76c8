from django.contrib import admin

from thetavue_site.admin_columns import number_column, owner_column
from tradeplans.models import TradePlan, TradePlanBreach, TradePlanStrategy

TIMESTAMPS = ("created_at", "updated_at")


class TradePlanStrategyInline(admin.TabularInline):
    model = TradePlanStrategy
    extra = 0
    readonly_fields = TIMESTAMPS


@admin.register(TradePlan)
class TradePlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "portfolio",
        "monthly_income_target",
        "risk_per_trade",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "user__email")
    autocomplete_fields = ("user", "portfolio")
    readonly_fields = TIMESTAMPS
    list_select_related = ("user", "portfolio")
    inlines = [TradePlanStrategyInline]


@admin.register(TradePlanStrategy)
class TradePlanStrategyAdmin(admin.ModelAdmin):
    list_display = (
        "trade_plan",
        owner_column("trade_plan__user"),
        "strategy_type",
        number_column("allocation_percentage", "allocation %", 1),
        "max_positions",
        number_column("delta_range_min", "Δ min", 2),
        number_column("delta_range_max", "Δ max", 2),
        number_column("target_credit", "target credit $", 2),
    )
    list_filter = ("strategy_type",)
    search_fields = ("trade_plan__name",)
    autocomplete_fields = ("trade_plan",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("trade_plan__user",)


@admin.register(TradePlanBreach)
class TradePlanBreachAdmin(admin.ModelAdmin):
    list_display = (
        "trade_plan",
        owner_column("trade_plan__user"),
        "rule",
        "subject",
        "opened_at",
        "last_seen_at",
    )
    list_filter = ("rule",)
    search_fields = ("trade_plan__name", "subject", "message")
    autocomplete_fields = ("trade_plan",)
    readonly_fields = ("opened_at", "last_seen_at", *TIMESTAMPS)
    list_select_related = ("trade_plan__user",)
