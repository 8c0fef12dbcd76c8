"""Portfolio dashboards: the overview at "/" and one portfolio's page."""

from django.urls import path

from portfolios import views

app_name = "portfolios"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="detail"),
    path("portfolios/<int:pk>/what-if", views.portfolio_what_if, name="what-if"),
    path("portfolios/<int:pk>/risk-graph", views.portfolio_risk_graph, name="risk-graph"),
]
