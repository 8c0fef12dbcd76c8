"""/api/portfolio/…: portfolios, their legs and strategies (DESIGN.md §11)."""

from django.urls import path

from portfolios.api.views import PortfolioViewSet, PositionViewSet, StrategyGroupViewSet

app_name = "portfolios-api"

portfolio_list = PortfolioViewSet.as_view({"get": "list", "post": "create"})
portfolio_detail = PortfolioViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
position_list = PositionViewSet.as_view({"get": "list", "post": "create"})
position_detail = PositionViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)
strategy_list = StrategyGroupViewSet.as_view({"get": "list"})

# Explicit paths rather than a router: the int converters type the ids in the
# schema, and positions and strategies nest under their portfolio.
urlpatterns = [
    path("", portfolio_list, name="portfolio-list"),
    path("<int:pk>/", portfolio_detail, name="portfolio-detail"),
    path("<int:portfolio_id>/positions/", position_list, name="position-list"),
    path("<int:portfolio_id>/positions/<int:pk>/", position_detail, name="position-detail"),
    path("<int:portfolio_id>/strategies/", strategy_list, name="strategy-list"),
]
