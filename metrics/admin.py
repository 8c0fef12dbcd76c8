from django.contrib import admin

from metrics.models import HistoricalMetric
from thetavue_site.admin_columns import number_column, owner_column


@admin.register(HistoricalMetric)
class HistoricalMetricAdmin(admin.ModelAdmin):
    list_display = (
        "portfolio",
        owner_column("portfolio__user"),
        "date",
        number_column("net_liquidation_value", "net liq $", 2),
        number_column("total_delta", "Δ sh", 2),
        number_column("total_theta", "Θ $/day", 2),
        number_column("total_vega", "ν $/pt", 2),
        number_column("beta_weighted_delta", "BWD SPY sh", 2),
        "backfilled",
    )
    search_fields = ("portfolio__name",)
    autocomplete_fields = ("portfolio",)
    readonly_fields = ("created_at",)
    list_select_related = ("portfolio__user",)
    date_hierarchy = "date"
