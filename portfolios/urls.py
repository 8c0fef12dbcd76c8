"""Portfolio dashboards: the overview at "/" and one portfolio's page."""

from django.urls import path

from portfolios import manual_pages, views

app_name = "portfolios"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="detail"),
    path("portfolios/<int:pk>/what-if", views.portfolio_what_if, name="what-if"),
    path("portfolios/<int:pk>/risk-graph", views.portfolio_risk_graph, name="risk-graph"),
    path("portfolios/new", manual_pages.manual_portfolio_create, name="manual-create"),
    path("portfolios/<int:pk>/edit", manual_pages.manual_portfolio_edit, name="manual-edit"),
    path("portfolios/<int:pk>/delete", manual_pages.manual_portfolio_delete, name="manual-delete"),
    path(
        "portfolios/<int:pk>/positions/new",
        manual_pages.manual_position_form,
        name="manual-position-create",
    ),
    path(
        "portfolios/<int:pk>/positions/<int:position_id>/edit",
        manual_pages.manual_position_form,
        name="manual-position-edit",
    ),
    path(
        "portfolios/<int:pk>/positions/<int:position_id>/delete",
        manual_pages.manual_position_delete,
        name="manual-position-delete",
    ),
]
