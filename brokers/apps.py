from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "brokers"
    verbose_name = "Broker connections"

    def ready(self) -> None:
        # Models are loaded only now, so the probes that read them are
        # imported here and handed to the site's /metrics and /healthz.
        from brokers.monitoring import SyncRunCollector, oldest_sync_age_seconds
        from thetavue_site import health, monitoring

        monitoring.REGISTRY.register(SyncRunCollector())
        health.detail_register("oldest_active_sync_age_seconds", oldest_sync_age_seconds)
