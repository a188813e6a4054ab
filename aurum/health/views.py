"""Liveness, readiness and Prometheus metrics."""

import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from aurum.api.problems import safe_methods_only
from aurum.health.checks import CHECK_NAMES, READINESS
from aurum.observability.metrics import metrics_exposition


@safe_methods_only
def live(request: HttpRequest) -> JsonResponse:
    """The process is up and serving. No dependency is checked."""
    return JsonResponse({"status": "ok"})


@safe_methods_only
def ready(request: HttpRequest) -> JsonResponse:
    """Every dependency answered (Postgres, Redis, warehouse write, a Celery worker heartbeat, and the Trino
    coordinator when reads go to Trino); else 503.

    Each check says ok or not with its latency and a short fixed reason; the answer may be a few seconds old.
    ``?skip=worker`` leaves checks out: a web server's readiness probe must not take it out of service because
    the workers are down (deploy/k8s).
    """
    skip = {name for name in request.GET.get("skip", "").split(",") if name}
    if skip - CHECK_NAMES:
        return JsonResponse(
            {
                "status": "unknown-check",
                "detail": f"skip names checks this server has not: {sorted(skip - CHECK_NAMES)}",
            },
            status=400,
        )
    results = [r for r in READINESS.results() if r.name not in skip]
    ok = all(r.ok for r in results)
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {r.name: {"ok": r.ok, "latency_ms": r.latency_ms, "detail": r.detail} for r in results},
    }
    return JsonResponse(body, status=200 if ok else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """On a platform host (AURUM_PUBLIC_HOSTS), or from a client address in AURUM_METRICS_ALLOW (CIDRs).

    The address is the connecting peer's (REMOTE_ADDR); forwarded headers are not trusted.
    """
    if request.get_host().split(":")[0].lower() in settings.AURUM_PUBLIC_HOSTS:
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(cidr, strict=False) for cidr in settings.AURUM_METRICS_ALLOW)


@safe_methods_only
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for the platform host and the allow-list only; anywhere else nothing is here.

    The counters and histograms of every process of this server (multiprocess mode under gunicorn), then the
    gauges read at scrape time (aurum.observability.metrics)."""
    if not metrics_allowed(request):
        raise Http404("No metrics here.")
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
