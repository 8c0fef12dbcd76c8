"""Connections dashboard, mounted at /connections/."""

from django.urls import path

from brokers import views

app_name = "brokers"
urlpatterns = [
    path("", views.connections_page, name="connections"),
    path("connect", views.connect, name="connect"),
    path("<int:pk>/disconnect", views.disconnect, name="disconnect"),
    path("<int:pk>/sync", views.sync_now, name="sync"),
    path("<int:pk>/status", views.sync_status, name="status"),
]
