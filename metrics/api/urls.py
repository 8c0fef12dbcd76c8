"""Metrics endpoints under /api/ (DESIGN.md §11); full paths, mounted at the API root.

They sit beside the portfolio app's /api/portfolio/ routes: none of those
matches these paths (its ids are int-typed), so Django falls through to here.
"""

from django.urls import path

from metrics.api.views import (
    PortfolioHistoryApi,
    PortfolioMetricsApi,
    PortfolioMetricsListApi,
    PortfolioWhatIfApi,
)

app_name = "metrics-api"

urlpatterns = [
    path("portfolio/metrics/", PortfolioMetricsListApi.as_view(), name="portfolio-metrics-list"),
    path("portfolio/<int:pk>/metrics/", PortfolioMetricsApi.as_view(), name="portfolio-metrics"),
    path("portfolio/<int:pk>/history/", PortfolioHistoryApi.as_view(), name="portfolio-history"),
    path("portfolio/<int:pk>/what-if", PortfolioWhatIfApi.as_view(), name="portfolio-what-if"),
]
