"""WSGI entry point of the minimal app."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minimal.settings")

application = get_wsgi_application()
