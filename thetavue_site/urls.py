from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error
from drf_spectacular.views import SpectacularAPIView

from thetavue_site.api.errors import json_404, json_500
from thetavue_site.health import healthz
from thetavue_site.monitoring import metrics_view
from thetavue_site.openapi import RedocView, SwaggerUIView, redoc_bundle


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them the SVG."""
    return redirect(static("img/favicon.svg"))


# Domain apps are routed by dotted path (include("app.urls")): the site
# imports no domain module, so the import arrows stay one-way.
api_patterns = [
    path("auth/", include("thetavue_site.users.api_urls")),
    path("portfolio/", include("portfolios.api.urls")),
    path("trade-plans/", include("tradeplans.api.urls")),
    path("tastytrade/", include("brokers.api.urls")),
    path("", include("metrics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/notifications/", include("thetavue_site.users.notification_urls")),
    path("api/", include(api_patterns)),
    path("plans/", include("tradeplans.urls")),
    path("connections/", include("brokers.urls")),
    path("", include("thetavue_site.users.urls_pages")),
    path("", include("portfolios.urls")),
]

handler404 = "thetavue_site.urls.not_found"
handler500 = "thetavue_site.urls.server_error"


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_404(request, exception)
    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_500(request)
    return html_server_error(request)
