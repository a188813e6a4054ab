"""The original Aurum's own paths, which Aurum serves beside its own (aurum/urls_shared.py): the v1 API at
``/v1/...`` and the probes ``/health``, ``/healthz``, ``/live``, ``/livez`` (liveness) and ``/ready``,
``/readyz`` (readiness). Plain constants: settings, middleware, URLs and the schema read them."""

from __future__ import annotations

V1_PREFIX = "/v1/"
LIVE_PROBES = ("health", "healthz", "live", "livez")
READY_PROBES = ("ready", "readyz")
PROBE_PATHS = frozenset(f"/{probe}" for probe in (*LIVE_PROBES, *READY_PROBES))
