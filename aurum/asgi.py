"""ASGI entry point: HTTP through Django, websockets through Channels with tenant-aware authentication."""

import os

from django.core.asgi import get_asgi_application

from aurum.observability.tracing import tracing_configure

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")
# Under ASGI each request runs in a fresh thread context, so persistent connections are never reused and pile
# up until Postgres refuses clients (seen under load). Close them at the end of every request instead.
os.environ.setdefault("AURUM_DB_CONN_MAX_AGE", "0")
# Before the handler loads its middleware: the Django instrumentation adds its own to the settings.
tracing_configure("asgi")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.urls import path  # noqa: E402

from aurum.events.auth import TenantAuthMiddleware  # noqa: E402
from aurum.events.consumers import EventStreamConsumer  # noqa: E402
from aurum.warmup import warmup_lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # uvicorn runs the lifespan start-up before it binds its socket: the warm-up (aurum/warmup.py) is done
        # before the first request or socket is accepted, and importing this module stays free of it.
        "lifespan": warmup_lifespan,
        "websocket": SessionMiddlewareStack(
            TenantAuthMiddleware(URLRouter([path("ws/events/", EventStreamConsumer.as_asgi())]))
        ),
    }
)
