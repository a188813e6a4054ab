"""WSGI entry point (gunicorn, deploy/gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

from aurum.lakehouse.memory_pool import web_malloc_arenas_limit
from aurum.observability.tracing import tracing_configure

# Before any request thread starts: they share two malloc arenas instead of one each (decision 0074).
web_malloc_arenas_limit()

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")
# Before the handler loads its middleware: the Django instrumentation adds its own to the settings.
tracing_configure("web")
application = get_wsgi_application()
