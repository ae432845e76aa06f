"""WSGI entry point: Zappa's handler and local servers load `application` from here."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imageedit.settings")

application = get_wsgi_application()
