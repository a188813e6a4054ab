"""WSGI entry point (gunicorn, deploy/gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")
application = get_wsgi_application()
