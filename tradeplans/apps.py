from django.apps import AppConfig


class TradeplansConfig(AppConfig):
    name = "tradeplans"
    verbose_name = "Trade plans"
