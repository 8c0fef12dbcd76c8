"""Account, notifications and privacy pages (HTML); the JSON API is users/api_urls.py."""

from django.urls import path

from thetavue_site.users import views

app_name = "users"
urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/tokens", views.token_create, name="token-create"),
    path("account/tokens/<int:pk>/revoke", views.token_revoke, name="token-revoke"),
    path("account/time-zone", views.time_zone_set, name="time-zone"),
    path("account/export", views.export, name="export"),
    path("account/erase", views.erase, name="erase"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read", views.notification_read, name="notification-read"),
    path("notifications/read-all", views.notifications_read_all, name="notifications-read-all"),
    path("privacy/", views.privacy_page, name="privacy"),
]
