from django.urls import path
from rest_framework.routers import SimpleRouter

from tradeplans.api import views

app_name = "tradeplans-api"

router = SimpleRouter()
router.register("", views.TradePlanViewSet, basename="trade-plan")

urlpatterns = [
    path(
        "<int:pk>/compliance", views.TradePlanComplianceApi.as_view(), name="trade-plan-compliance"
    ),
    *router.urls,
]
