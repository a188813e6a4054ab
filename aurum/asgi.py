"""ASGI entry point: HTTP through Django, websockets through Channels with tenant-aware authentication."""

import os

from django.core.asgi import get_asgi_application

from aurum.lakehouse.memory_pool import web_malloc_arenas_limit
from aurum.observability.tracing import tracing_configure

# Before any request thread starts: they share two malloc arenas instead of one each (decision 0074).
web_malloc_arenas_limit()

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")
# Before the handler loads its middleware: the Django instrumentation adds its own to the settings.
tracing_configure("asgi")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.urls import path  # noqa: E402

from aurum.asgi_threads import RequestThreads  # noqa: E402
from aurum.events.auth import TenantAuthMiddleware  # noqa: E402
from aurum.events.consumers import EventStreamConsumer  # noqa: E402
from aurum.warmup import warmup_lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Each request's synchronous code on one of a few kept threads, not a new thread a request: the
        # threads' Postgres and DuckDB connections are kept between requests (aurum/asgi_threads.py).
        "http": RequestThreads(django_asgi_app, size=int(os.environ.get("AURUM_ASGI_THREADS", "8"))),
        # uvicorn runs the lifespan start-up before it binds its socket: the warm-up (aurum/warmup.py) is done
        # before the first request or socket is accepted, and importing this module stays free of it.
        "lifespan": warmup_lifespan,
        "websocket": SessionMiddlewareStack(
            TenantAuthMiddleware(URLRouter([path("ws/events/", EventStreamConsumer.as_asgi())]))
        ),
    }
)
