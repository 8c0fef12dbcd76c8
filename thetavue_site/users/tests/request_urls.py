"""The project's URLs plus a few test-only views (pytest.mark.urls)."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path

from thetavue_site.urls import handler404, handler500, urlpatterns  # noqa: F401
from thetavue_site.users.models import Notification

COUNT_TEMPLATE = engines["django"].from_string(
    "{% for n in notifications %}[{{ n.title }}]{% endfor %}"
)


def notifications_page(request):
    # A lazy queryset: it runs only when the template renders, after this returns.
    notifications = Notification.objects.filter(user_id=request.user.pk).order_by("title")
    return TemplateResponse(request, COUNT_TEMPLATE, {"notifications": notifications})


def write_then_fail(request):
    Notification.objects.create(user_id=request.user.pk, kind="half", title="half a write")
    raise RuntimeError("boom after a write")


def visible_titles(request):
    titles = list(Notification.objects.order_by("title").values_list("title", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return JsonResponse({"titles": titles, "pid": pid})


def ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("test/notifications-page", notifications_page),
    path("test/write-then-fail", write_then_fail),
    path("test/visible-titles", visible_titles),
    path("api/test/write-then-fail", write_then_fail),
    *urlpatterns,
]
