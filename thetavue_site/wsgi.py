import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thetavue_site.settings")
application = get_wsgi_application()

from thetavue_site.request_limits import RefuseControlCharacterHeaders  # noqa: E402 - after setup

application = RefuseControlCharacterHeaders(application)
