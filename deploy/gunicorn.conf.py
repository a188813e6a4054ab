"""gunicorn for the HTTP API and portal (WSGI). Websockets (/ws/) are served by uvicorn (ASGI)."""

import multiprocessing
import os

bind = os.environ.get("AURUM_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("AURUM_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("AURUM_WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers rarely: a restart costs ~1 s of Django start-up, seen as latency spikes under load.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = None  # the app writes its own structured access log


def post_worker_init(worker: object) -> None:
    """Load what the first curve read would otherwise load (pyiceberg, DuckDB, Arrow, the catalog's
    connection pool): measured ~3.9 s for the first request of a fresh worker without this."""
    from apps.curves import selectors  # noqa: F401 - imports the lakehouse stack
    from aurum.api import arrow  # noqa: F401
    from aurum.lakehouse.catalog import get_catalog
    from aurum.lakehouse.engines import _duckdb_connection

    try:
        get_catalog()
        _duckdb_connection()
    except Exception as exc:  # a worker must start even if the lakehouse is not reachable yet
        print(f"lakehouse warm-up skipped: {exc}")
