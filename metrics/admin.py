from django.contrib import admin

from metrics.models import HistoricalMetric


@admin.register(HistoricalMetric)
class HistoricalMetricAdmin(admin.ModelAdmin):
    list_display = (
        "portfolio",
        "date",
        "net_liquidation_value",
        "total_delta",
        "total_theta",
        "total_vega",
        "beta_weighted_delta",
    )
    search_fields = ("portfolio__name",)
    autocomplete_fields = ("portfolio",)
    readonly_fields = ("created_at",)
    list_select_related = ("portfolio",)
    date_hierarchy = "date"
