"""Metrics endpoints under /api/ (DESIGN.md §11); full paths, mounted at the API root.

They sit beside the portfolio app's /api/portfolio/ routes: none of those
matches these paths (its ids are int-typed), so Django falls through to here.
"""

from django.urls import path

from metrics.api.views import (
    PortfolioHistoryViewSet,
    PortfolioMetricsViewSet,
    PortfolioWhatIfViewSet,
)

app_name = "metrics-api"

urlpatterns = [
    path(
        "portfolio/metrics/",
        PortfolioMetricsViewSet.as_view({"get": "list"}),
        name="portfolio-metrics-list",
    ),
    path(
        "portfolio/<int:pk>/metrics/",
        PortfolioMetricsViewSet.as_view({"get": "retrieve"}),
        name="portfolio-metrics",
    ),
    path(
        "portfolio/<int:pk>/history/",
        PortfolioHistoryViewSet.as_view({"get": "retrieve"}),
        name="portfolio-history",
    ),
    path(
        "portfolio/<int:pk>/what-if",
        PortfolioWhatIfViewSet.as_view({"post": "what_if"}),
        name="portfolio-what-if",
    ),
]
