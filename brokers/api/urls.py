from django.urls import path

from brokers.api import views

app_name = "brokers-api"
urlpatterns = [
    path("connect", views.ConnectApi.as_view(), name="connect"),
    path("callback", views.CallbackApi.as_view(), name="callback"),
    path(
        "connections/",
        views.ConnectionViewSet.as_view({"get": "list"}),
        name="connection-list",
    ),
    path(
        "connections/<int:pk>",
        views.ConnectionViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="connection-detail",
    ),
    path("sync", views.SyncApi.as_view(), name="sync"),
    path("status", views.StatusApi.as_view(), name="status"),
]
