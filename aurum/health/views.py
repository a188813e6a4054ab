from django.http import HttpRequest, JsonResponse

from aurum.health.checks import run_checks


def live(request: HttpRequest) -> JsonResponse:
    """The process is up and serving. No dependency is checked."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Every dependency answered (Postgres, Redis, warehouse write, a Celery worker heartbeat); else 503."""
    results = run_checks()
    ok = all(r.ok for r in results)
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {r.name: {"ok": r.ok, "latency_ms": r.latency_ms, "detail": r.detail} for r in results},
    }
    return JsonResponse(body, status=200 if ok else 503)
