from django.urls import path

from thetavue_site.users import api

app_name = "users-api"
urlpatterns = [
    path("me", api.MeApi.as_view(), name="me"),
    path("export", api.ExportApi.as_view(), name="export"),
    path("tokens", api.ApiTokenListApi.as_view(), name="token-list"),
    path("tokens/<int:pk>", api.ApiTokenDetailApi.as_view(), name="token-detail"),
    path("webhooks/clerk", api.ClerkWebhookApi.as_view(), name="clerk-webhook"),
]
