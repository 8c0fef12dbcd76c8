"""The app's URLs plus one trivial view, for benchmark 4 (never mounted by the app)."""

from django.http import HttpResponse
from django.urls import path

from thetavue_site.urls import handler404, handler500
from thetavue_site.urls import urlpatterns as app_urlpatterns

TRIVIAL_PATH = "bench/trivial"
WHOAMI_PATH = "bench/whoami"


def trivial(request):
    """The least a Django view can answer: a fixed body, no auth, no query of its own."""
    return HttpResponse(b'{"ok":true}', content_type="application/json")


def whoami(request):
    """The least an authenticated view can do: load the verified user and name it."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    return HttpResponse(f'{{"id":"{request.user.pk}"}}', content_type="application/json")


urlpatterns = [
    path(TRIVIAL_PATH, trivial, name="bench-trivial"),
    path(WHOAMI_PATH, whoami, name="bench-whoami"),
    *app_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
