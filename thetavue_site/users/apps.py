from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "thetavue_site.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from thetavue_site import checks  # noqa: F401 - registers the system checks
