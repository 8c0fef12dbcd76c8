"""Trade plan dashboards, mounted at /plans/."""

from django.urls import path

from tradeplans import views

app_name = "tradeplans"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:pk>/", views.plan_edit, name="edit"),
    path("<int:pk>/delete", views.plan_delete, name="delete"),
]
