import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aptic.settings")
application = get_wsgi_application()

from aptic.staticfiles import ensure_collected  # noqa: E402 - needs the settings loaded

ensure_collected()
