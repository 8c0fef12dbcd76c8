from django.contrib import admin

from portfolios.models import AccountBalance, Portfolio, Position, Transaction
from thetavue_site.admin_columns import number_column, owner_column

TIMESTAMPS = ("created_at", "updated_at")


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    fields = ("symbol", "strategy_type", "quantity", "mark", "delta", "theta", "vega")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "account_type",
        "broker_account_id",
        "net_liquidation_value",
        "synced_at",
    )
    list_filter = ("account_type",)
    search_fields = ("name", "broker_account_id", "user__email")
    autocomplete_fields = ("user", "broker_connection")
    readonly_fields = ("synced_at", "sync_version", *TIMESTAMPS)
    list_select_related = ("user",)
    inlines = [PositionInline]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = (
        "symbol",
        "portfolio",
        owner_column("portfolio__user"),
        "instrument_type",
        "strategy_type",
        number_column("quantity", "quantity", 0),
        "expiration_date",
        number_column("strike_price", "strike", 2),
        number_column("mark", "mark $", 2),
        number_column("delta", "Δ sh", 2),
        number_column("theta", "Θ $/day", 2),
        number_column("vega", "ν $/pt", 2),
        "greeks_source",
        "exercise_style",
    )
    # Legs styled by the table rather than the broker: roots worth checking.
    list_filter = (
        "instrument_type",
        "strategy_type",
        "greeks_source",
        "option_type",
        "exercise_style",
        "exercise_style_source",
    )
    search_fields = ("symbol", "underlying_symbol", "portfolio__name")
    autocomplete_fields = ("portfolio",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("portfolio__user",)


@admin.register(AccountBalance)
class AccountBalanceAdmin(admin.ModelAdmin):
    list_display = (
        "portfolio",
        "net_liquidating_value",
        "cash_balance",
        "derivative_buying_power",
        "updated_at",
    )
    search_fields = ("portfolio__name",)
    autocomplete_fields = ("portfolio",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("portfolio",)


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = (
        "transaction_date",
        "portfolio",
        "transaction_type",
        "action",
        "symbol",
        "net_value",
    )
    list_filter = ("transaction_type",)
    search_fields = ("symbol", "underlying_symbol", "portfolio__name")
    autocomplete_fields = ("portfolio",)
    readonly_fields = TIMESTAMPS
    list_select_related = ("portfolio",)
    date_hierarchy = "transaction_date"
