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
