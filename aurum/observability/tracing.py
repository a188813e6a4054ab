"""OpenTelemetry traces across web → Celery → lakehouse (decision 0031), off by default.

``tracing_configure(role)`` is called once per process by the entry points (aurum/wsgi.py, aurum/asgi.py,
the Celery worker's start in aurum/celery.py). ``AURUM_OTEL_EXPORTER`` chooses the exporter:

- ``none`` (default): nothing is installed; OpenTelemetry's API stays a no-op (the spans Aurum's own code
  opens, e.g. around lakehouse queries, cost a function call);
- ``otlp``: OTLP over HTTP, configured by OpenTelemetry's own variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, …);
- ``console``: spans printed to standard output;
- ``file:<path>``: one JSON object per span per line (the SDK's span JSON), appended by every process.

``OTEL_SERVICE_NAME`` (default ``aurum-<role>``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` and
``OTEL_BSP_*`` are read by the SDK as OpenTelemetry specifies.

Instrumented: Django requests, Celery publish and run (the trace context travels in the task's headers),
psycopg, Redis, httpx, and pyiceberg's commits (a span per append/overwrite/delete with the table and rows).
Lakehouse queries open their own span in aurum/lakehouse/engines.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import structlog
from django.conf import settings
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from pyiceberg.table import Table
from wrapt import wrap_function_wrapper

from aurum.lakehouse.partitions import commit_span
from aurum.observability.redaction import redact_secrets

log = structlog.get_logger(__name__)


class JsonLinesSpanExporter(SpanExporter):
    """Appends each span as one line of JSON (``ReadableSpan.to_json``) to a file. Each line is one
    ``write`` on a file opened for appending, so the processes of a server can share the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [(span.to_json(indent=None) + "\n").encode() for span in spans]
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                for line in lines:
                    os.write(descriptor, line)
            finally:
                os.close(descriptor)
        return SpanExportResult.SUCCESS


def span_exporter(spec: str) -> SpanExporter | None:
    """The exporter ``AURUM_OTEL_EXPORTER`` names; None for ``none``; ValueError for anything else."""
    if spec in ("", "none"):
        return None
    if spec == "console":
        return ConsoleSpanExporter()
    if spec == "otlp":
        return OTLPSpanExporter()
    if spec.startswith("file:") and len(spec) > len("file:"):
        return JsonLinesSpanExporter(spec.removeprefix("file:"))
    raise ValueError(f"AURUM_OTEL_EXPORTER={spec!r}: use none, otlp, console or file:<path>")


# --- pyiceberg commits -------------------------------------------------------------------------------------


def _iceberg_commit_wrapper(operation: str) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Table, args: tuple[Any, ...], kwargs: Any) -> Any:
        rows = args[0] if args else kwargs.get("df")
        with commit_span(instance, operation, rows if isinstance(rows, pa.Table) else None):
            return wrapped(*args, **kwargs)

    return wrapper


_ICEBERG_WRITES = ("append", "overwrite", "delete")


class IcebergCommitInstrumentor:
    """A span around every commit pyiceberg makes through ``Table`` (the ingest write path, the latest
    table, scenario outputs, PPA valuations), however the domain code calls it."""

    def instrument(self) -> None:
        for operation in _ICEBERG_WRITES:
            wrap_function_wrapper("pyiceberg.table", f"Table.{operation}", _iceberg_commit_wrapper(operation))

    def uninstrument(self) -> None:
        for operation in _ICEBERG_WRITES:
            unwrap(Table, operation)


# --- the process's setup -----------------------------------------------------------------------------------


@dataclass
class Tracing:
    """What ``tracing_configure`` installed, so that it can be taken down again (tests)."""

    provider: TracerProvider
    instrumentors: list[BaseInstrumentor | IcebergCommitInstrumentor] = field(default_factory=list)

    def shutdown(self) -> None:
        for instrumentor in self.instrumentors:
            instrumentor.uninstrument()
        self.provider.shutdown()


_installed: Tracing | None = None


# The URL attributes of HTTP spans, old and new semantic conventions.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target", "url.path", "url.query")


def span_urls_redact(span: Any, *_: Any) -> None:
    """Instrumentation hook: the span's URL attributes without their secrets (redaction.py)."""
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str) and (redacted := redact_secrets(value)) != value:
            span.set_attribute(name, redacted)


async def _span_urls_redact(span: Any, *_: Any) -> None:
    span_urls_redact(span)


def tracing_configure(role: str, exporter: str | None = None) -> Tracing | None:
    """Install a tracer provider and the instrumentation for this process, once; None when the exporter is
    ``none`` (nothing is installed). ``exporter`` defaults to ``AURUM_OTEL_EXPORTER``."""
    global _installed
    if _installed is not None:
        return _installed
    chosen = span_exporter(settings.AURUM_OTEL_EXPORTER if exporter is None else exporter)
    if chosen is None:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"aurum-{role}"}))
    provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)
    instrumentors: list[BaseInstrumentor | IcebergCommitInstrumentor] = []
    # URLs in spans lose their secrets as log lines do (an EIA key in a query string, an invitation's token
    # in a path): the hooks run once the instrumentation has set the span's URL attributes.
    hooks: dict[type, dict[str, Any]] = {
        DjangoInstrumentor: {"request_hook": span_urls_redact},
        HTTPXClientInstrumentor: {"request_hook": span_urls_redact, "async_request_hook": _span_urls_redact},
    }
    for instrumentor in (
        DjangoInstrumentor(),
        CeleryInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        HTTPXClientInstrumentor(),
    ):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(
                tracer_provider=provider, skip_dep_check=True, **hooks.get(type(instrumentor), {})
            )
            instrumentors.append(instrumentor)
    iceberg = IcebergCommitInstrumentor()
    iceberg.instrument()
    instrumentors.append(iceberg)
    _installed = Tracing(provider=provider, instrumentors=instrumentors)
    log.info("tracing on", role=role, exporter=settings.AURUM_OTEL_EXPORTER if exporter is None else exporter)
    return _installed


def tracing_shutdown() -> None:
    """Export what is pending and take the instrumentation down (tests; a process's exit flushes itself)."""
    global _installed
    if _installed is not None:
        _installed.shutdown()
        _installed = None
