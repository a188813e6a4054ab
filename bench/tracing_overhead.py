"""Overhead of tracing on an uncached one-curve read: ``GET /api/v2/curves/<key>`` (~121 tenors, read cache
off) through Django's whole middleware chain in one process, tracing off (no provider) against tracing on
(file exporter, JSON lines, batch processor; Django, psycopg, Redis and lakehouse spans). Rounds alternate
off/on so drift on a shared machine hits both alike.

Run: make bench BENCH=bench/tracing_overhead.py    (needs ../shared/fixtures)
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
os.environ["AURUM_READ_CACHE"] = "false"
os.environ.setdefault("AURUM_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from opentelemetry.test.globals_test import reset_trace_globals  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from apps.curves.models import Curve  # noqa: E402
from aurum.observability.tracing import tracing_configure, tracing_shutdown  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SPANS = REPO / "var" / "bench-tracing-spans.jsonl"


def seed() -> tuple[str, str]:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    if not Curve.objects.filter(dataset="vendor:EUGP").exists():
        call_command("ingest_eod", str(sorted(EOD.glob("EOD_EUGP_*.xlsx"))[0]), stdout=io.StringIO())
    plan = plan_ensure(
        code="bench-trace",
        name="Bench tracing",
        requests_per_second=10**6,
        burst=10**6,
        datasets=["vendor:EUGP"],
    )
    tenant = Tenant.objects.filter(schema_name="traceco").first() or tenant_create(
        name="Trace Co", schema_name="traceco", plan=plan
    )
    user = user_create(email=f"reader{time.time_ns()}@traceco.example", password=None)
    token = api_token_create(
        membership=membership_create(user=user, tenant=tenant, role="analyst"), name="t"
    )[1]
    curves = Curve.objects.filter(dataset="vendor:EUGP").order_by("curve_key")
    curve = min(curves, key=lambda c: (abs(c.tenor_count - 121), c.curve_key))
    return token, curve.curve_key


def measure(token: str, key: str) -> list[float]:
    client = Client()  # a new client loads the middleware (with or without the tracing middleware)
    headers = {"Authorization": f"Bearer {token}", "Host": "localhost"}
    for _ in range(10):  # warm
        assert client.get(f"/api/v2/curves/{key}", headers=headers).status_code == 200
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(f"/api/v2/curves/{key}", headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    return f"median {statistics.median(ordered):.2f} ms, p95 {ordered[int(len(ordered) * 0.95)]:.2f} ms"


def main() -> None:
    token, key = seed()
    SPANS.unlink(missing_ok=True)
    off: list[float] = []
    on: list[float] = []
    for n in range(ROUNDS):
        off += (round_off := measure(token, key))
        tracing_configure("web", exporter=f"file:{SPANS}")
        on += (round_on := measure(token, key))
        tracing_shutdown()
        reset_trace_globals()
        print(f"round {n + 1}: off {summary(round_off)} | on {summary(round_on)}")
    spans = sum(1 for _ in SPANS.open()) if SPANS.exists() else 0
    print(f"curve {key}, {REQUESTS} requests x {ROUNDS} rounds each way")
    print(f"tracing off: {summary(off)}")
    print(
        f"tracing on (file exporter): {summary(on)}; {spans / (REQUESTS + 10) / ROUNDS:.1f} spans per request"
    )
    print(f"median overhead: {statistics.median(on) / statistics.median(off) - 1:+.1%}")


if __name__ == "__main__":
    main()
