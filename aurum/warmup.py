"""Start-up warm-up (issue 14): what a process's first request or task would otherwise pay, paid before the
process takes work.

Measured on a fresh gunicorn worker, the first curve read cost seconds more than the second: the heavy
libraries (pyiceberg, DuckDB, Arrow, sqlglot, SQLAlchemy) are imported by the code that uses them, the URL
resolvers import every view on the first ``resolve``, templates compile on first use, the catalog's connection
pool and DuckDB open on the first query, Celery connects to its broker on the first task sent (an upload's
ingest run). ``warm_up`` does all of that at start:

- gunicorn: ``post_worker_init`` (deploy/gunicorn.conf.py): a worker accepts no connection before it returns;
- uvicorn (aurum.asgi): in the ASGI lifespan start-up, which uvicorn runs before it binds its socket;
- Celery: the imports in the main process before the pool forks (``worker_init``), the connections in each
  pool process (``worker_process_init``; the main process for the thread and solo pools), aurum/celery.py;
  the worker's first heartbeat waits for every pool process's warm-up (aurum/health/worker.py).

A worker's pool process also pays what its first ingest paid once per process (decisions 0051, 0056): the
writing-free stages of an ingest run on generated sample workbooks, at a real workbook's size
(``WORKER_REHEARSALS``: apps/ingestion/warmup.py); nothing is written and no tenant's data is read or kept.

So ``/health/ready`` (or the worker heartbeat) answers only once a process is warm. A step that fails is
logged and skipped: a process must start even when the lakehouse is not reachable yet (its first request
then pays).
``AURUM_WARM_UP=false`` turns it off (the test settings: each test process would pay it for nothing).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.utils.module_loading import import_string

log = structlog.get_logger(__name__)

# What a first request or task imports beyond Django's start-up: named here, imported by name, so that this
# module depends on no domain app (the list is data; a module missing from it costs only its first request).
WEB_MODULES = (
    "duckdb",
    "pyarrow.compute",
    "pyarrow.parquet",
    "pyiceberg.table",
    "pyiceberg.catalog.sql",
    "sqlglot",
    "aurum.lakehouse.engines",
    "aurum.lakehouse.queries",
    "aurum.api.arrow",
    "apps.curves.selectors",
    "apps.curves.api.v2",
    "apps.scenarios.services.runs",
    "apps.exports.services",
    "apps.ppa.lakehouse",
    "drf_spectacular.generators",
    "drf_spectacular.openapi",
    # What a warmed web process still imported during its first upload (measured, decision 0056): the
    # tenants' database router (its first write), the ZIP code page of a workbook's archive (the upload's
    # precheck), and the task-event dispatcher a task's first publish builds.
    "django_tenants.routers",
    "encodings.cp437",
    "celery.app.events",
    "celery.events.dispatcher",
)
WORKER_MODULES = (
    *WEB_MODULES,
    "apps.ingestion.services",
    "apps.ingestion.parsers",
    "apps.scenarios.engine",
    "apps.scenarios.services.execution",
    "apps.scenarios.services.commit",
    "apps.webhooks.services.delivery",
    "apps.feeds.services",
    # What a warmed pool process still imported during its first ingest (measured, decision 0046 addendum):
    # pyiceberg's Rust core (partition transforms, manifests), Arrow's Acero, numpy's masked arrays (the ZIP
    # code page and the tenants' router, also found there, are in the web list).
    "pyiceberg_core",
    "pyiceberg_core.transform",
    "pyiceberg_core.manifest",
    "pyarrow.acero",
    "numpy.ma",
)
# What a worker's first ingest paid beyond imports (the workbook reader, Arrow's kernels and thread pool, the
# Parquet writer: first day 1.39 s, next days 0.72-0.82 s), rehearsed on generated sample workbooks with
# nothing written (decision 0051). Named by dotted path, as the modules are.
WORKER_REHEARSALS = ("apps.ingestion.warmup.ingest_rehearse",)
# Tables a curve read, an ingest or a run loads first (their metadata is read once per process).
TABLES = ("curve_observation_table", "curve_latest_table")


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    ms: float
    detail: str = ""


def warm_up_enabled() -> bool:
    return bool(getattr(settings, "AURUM_WARM_UP", True))


def modules_import(names: tuple[str, ...]) -> str:
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            missing.append(name)
    return f"{len(names) - len(missing)} modules" + (f"; not found: {', '.join(missing)}" if missing else "")


def urls_resolve() -> str:
    """Build every URLconf's resolver (imports every view, compiles every pattern) for both the tenant and
    the public URLconf (django-tenants picks one per request)."""
    from django.urls import get_resolver

    urlconfs = {settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", settings.ROOT_URLCONF)}
    patterns = 0
    for urlconf in sorted(urlconfs):
        resolver = get_resolver(urlconf)
        patterns += len(resolver.reverse_dict)
    return f"{len(urlconfs)} URLconfs, {patterns} names"


def templates_compile() -> str:
    """Compile every project and app template into the cached loader (production keeps compiled templates)."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines

    count = 0
    for engine in engines.all():
        for directory in engine.template_dirs:  # type: ignore[attr-defined]
            for path in sorted(directory.rglob("*.html")) if hasattr(directory, "rglob") else []:
                name = str(path.relative_to(directory))
                try:
                    engine.get_template(name)
                except (TemplateDoesNotExist, TemplateSyntaxError):
                    continue  # a partial that only compiles in its context; it compiles on use
                count += 1
    return f"{count} templates"


def openapi_generate() -> str:
    """The OpenAPI document ``/api/v2/schema/`` serves, made once per process, and its YAML and JSON
    renderings (aurum/api/schema_view.py), through the view itself."""
    from django.test import RequestFactory

    from aurum.api.schema_view import OpenApiSchemaView, openapi_document

    view = OpenApiSchemaView.as_view()
    for accept in ("application/vnd.oai.openapi", "application/vnd.oai.openapi+json"):
        request = RequestFactory().get("/api/v2/schema/", HTTP_ACCEPT=accept, SERVER_NAME="localhost")
        view(request)
    return f"{len(openapi_document()['paths'])} paths, 2 renderings"


def lakehouse_open() -> str:
    """The catalog (its connection pool), the hot tables' metadata, a DuckDB connection and one empty curve
    read through the configured engine: the path a first curve read takes."""
    from aurum.lakehouse import tables
    from aurum.lakehouse.catalog import get_catalog
    from aurum.lakehouse.engines import duckdb_connection, get_engine
    from aurum.lakehouse.queries import CurveFilters, curves_latest_materialised

    get_catalog()
    loaded = []
    for name in TABLES:
        getattr(tables, name)()
        loaded.append(name)
    duckdb_connection().execute("SELECT 1").fetchall()
    get_engine().query(curves_latest_materialised(CurveFilters(datasets=("warm-up",), limit=1)))
    return f"catalog, {len(loaded)} tables, DuckDB, one empty curve read"


def process_caches_listen() -> str:
    """Listen for the notifications that keep this web process's row caches exact (decision 0075)."""
    from aurum.process_cache import listener_start

    return listener_start()


def cache_open() -> str:
    """One read through the default cache: its client, serializer and compressor modules and its connection
    (a first ingest or request reads the cache; measured in a pool process's first ingest)."""
    from django.core.cache import cache

    cache.get("aurum:warm-up")
    return type(cache).__name__


def broker_open() -> str:
    """The Celery app's broker connection, opened and kept in its producer pool, and its result backend: a
    process's first task publish (an upload's ingest run) otherwise connected to Redis and imported the
    transport and backend then (~250 ms of a first upload, measured; decision 0056). Sends nothing."""
    # The app Django loaded at start-up (TenantsConfig imports aurum.celery), by Celery's own handle on it:
    # aurum.celery's worker signals import this module, so importing it back would be a cycle.
    from celery import current_app as app

    app.finalize(auto=True)  # the task registry, built on the first task a web process sends
    with app.producer_or_acquire() as producer:
        producer.connection.default_channel  # noqa: B018 - kombu's Redis channel connects (and pings) here
    return f"{type(app.backend).__name__}, {producer.connection.transport_cls} transport"


def rehearsals_run(paths: tuple[str, ...]) -> str:
    """Call each named function (no arguments; it returns a summary line)."""
    return "; ".join(str(import_string(path)()) for path in paths)


def _connection_steps(process: str) -> list[tuple[str, Callable[[], str]]]:
    steps: list[tuple[str, Callable[[], str]]] = [
        ("cache", cache_open),
        ("broker", broker_open),
        ("lakehouse", lakehouse_open),
    ]
    if process == "worker":
        steps.append(("rehearsals", lambda: rehearsals_run(WORKER_REHEARSALS)))
    else:  # after the lakehouse step: the catalog has made its table of pointers, which gets a trigger
        steps.append(("process caches", process_caches_listen))
    return steps


def _run(steps: list[tuple[str, Callable[[], str]]], process: str) -> list[StepResult]:
    results = []
    started = time.perf_counter()
    for name, step in steps:
        step_started = time.perf_counter()
        try:
            detail, ok = step(), True
        except Exception as exc:  # noqa: BLE001 - warm-up is an optimisation: the process starts regardless
            detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
        results.append(StepResult(name, ok, round((time.perf_counter() - step_started) * 1000, 1), detail))
    log.info(
        "warm-up finished",
        process=process,
        total_ms=round((time.perf_counter() - started) * 1000, 1),
        steps={r.name: r.ms for r in results},
        failed={r.name: r.detail for r in results if not r.ok} or None,
    )
    return results


def warm_up(process: str, *, connections: bool = True) -> list[StepResult]:
    """Warm this process for its work: ``web`` (gunicorn, uvicorn) or ``worker`` (Celery).
    ``connections=False`` imports and compiles only: for a process about to fork (a connection must not be
    shared with its children)."""
    if not warm_up_enabled():
        return []
    steps: list[tuple[str, Callable[[], str]]] = [
        ("imports", lambda: modules_import(WORKER_MODULES if process == "worker" else WEB_MODULES)),
    ]
    if process != "worker":
        steps += [("urls", urls_resolve), ("templates", templates_compile), ("openapi", openapi_generate)]
    if connections:
        steps += _connection_steps(process)
    results = _run(steps, process)
    if process == "web":
        heap_freeze()
    return results


def heap_freeze() -> None:
    """What a warmed process holds lives as long as it does (modules, URL resolvers, compiled templates, the
    OpenAPI schema: ~350,000 objects in a web process): moved out of the cyclic collector's generations, so a
    full collection walks only what later work left behind. In a web process a full collection paused every
    request thread for 80-104 ms (221 ms under load), frozen under 0.1 ms (decision 0073). ``warm_up("web")``
    ends with it; a Celery worker's main process calls it after its warm-up (aurum/celery.py, 0050)."""
    gc.collect()
    gc.freeze()


def warm_up_connections(process: str) -> list[StepResult]:
    """The per-process part alone (connections, and for a worker the rehearsals): in a pool process forked
    from a main process that imported already."""
    if not warm_up_enabled():
        return []
    return _run(_connection_steps(process), process)


async def warmup_lifespan(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    """The ASGI lifespan protocol: warm up (on a thread: it is synchronous, Django's ORM refuses an event
    loop's thread) at start-up, nothing at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await asyncio.to_thread(warm_up, "web")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
