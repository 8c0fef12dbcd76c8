"""The app's URLs plus one trivial view, for benchmark 4 (never mounted by the app)."""

from django.http import HttpResponse
from django.urls import path

from thetavue_site.urls import handler404, handler500
from thetavue_site.urls import urlpatterns as app_urlpatterns

TRIVIAL_PATH = "bench/trivial"


def trivial(request):
    """The least a Django view can answer: a fixed body, no auth, no query of its own."""
    return HttpResponse(b'{"ok":true}', content_type="application/json")


urlpatterns = [path(TRIVIAL_PATH, trivial, name="bench-trivial"), *app_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
