"""gunicorn for the HTTP API and portal (WSGI). Websockets (/ws/) are served by uvicorn (ASGI)."""

import multiprocessing
import os
import tempfile

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")

bind = os.environ.get("AURUM_BIND", "0.0.0.0:8000")
# One process per core with four threads each. Keep-alive connections stay on the worker that accepted them;
# with the stock gthread the accepts were uneven, so the more processes, the more a connection's latency
# depended on how crowded its worker was (the worker class below now balances them). Measured on 2 cores in
# one sitting (2026-12-03, 16 connections, docs/performance.md, before that worker class):
# uncached curve reads p99 207-235 ms with 2 x 4 against 275-322 ms with 4 x 2; warm (cached) reads 298-308
# req/s, p99 104-111 ms with 2 x 4 against 313-331 req/s, p99 93-251 ms with 4 x 2. (An earlier sitting, with
# 5 s keep-alive, had found 2 x 4 at 191-385 req/s on warm reads and chosen 4 x 2.)
workers = int(os.environ.get("AURUM_WEB_WORKERS", multiprocessing.cpu_count()))
# gthread that accepts a connection only while it has a thread free (aurum/gthread.py, decision 0063): with
# the stock gthread one worker took 14 of 16 kept-alive connections while the other idled.
worker_class = "aurum.gthread.BalancedThreadWorker"
threads = int(os.environ.get("AURUM_WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 30
# Longer than any idle time of a client that keeps connections: a proxy's pooled upstream connections
# (Caddy's `keepalive 60s` in deploy/Caddyfile; ingress-nginx's upstream-keepalive-timeout, 60 s) or a load
# generator's. The server must never be the side that closes an idle kept-alive connection: gthread closes an
# expired one without reading it, and a request the client sent on it at that moment is lost to a TCP reset
# (issue 14: resets in the soak with 5 s here; decision 0052). An idle connection costs a worker a file
# descriptor in its poller, not a thread (worker_connections, 1,000 by default).
keepalive = int(os.environ.get("AURUM_WEB_KEEPALIVE", "75"))
# Recycle workers rarely: a restart costs ~1 s of Django start-up, seen as latency spikes under load.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = None  # the app writes its own structured access log
# Several processes serve /metrics: each keeps its counters in this folder and a scrape adds them all up
# (prometheus_client's multiprocess mode; aurum.observability.metrics). A fresh folder per server start, set
# before any worker imports prometheus_client.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="aurum-web-metrics-"))


def child_exit(server: object, worker: object) -> None:
    """A worker process ended: its live gauges are dropped, its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """Warm the worker before it accepts a connection (aurum/warmup.py): the imports, URL resolvers,
    templates, catalog and DuckDB a first request would otherwise pay for (issue 14, bench/startup.py)."""
    from aurum.warmup import warm_up

    warm_up("web")
