from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "thetavue_site.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        from thetavue_site import checks  # noqa: F401 - registers the system checks

        # USERNAME_FIELD is clerk_id, so the admin's own form cannot sign anyone
        # in by email: send it through allauth's sign-in (rate-limited), with next.
        admin.site.login = secure_admin_login(admin.site.login)
