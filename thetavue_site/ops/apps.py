from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backup and restore."""

    name = "thetavue_site.ops"
    label = "ops"
    verbose_name = "Operations"
