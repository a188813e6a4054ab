"""Server time of each portal page on the demo's data (the last 10 fixture days, as `make demo` loads them):
p50 / p95 / max wall-clock and CPU time over repeated requests, made in-process with Django's test client
(the view, middleware, templates, Postgres, Redis and the lakehouse reads; no network, no HTTP server).
Repeated requests hit the Redis read cache where a page uses it (curve, movers); BENCH_READ_CACHE=false
measures them uncached.

Run: make bench BENCH=bench/portal_pages.py    (needs ../shared/fixtures)
Environment: BENCH_DAYS (default 10), BENCH_REQUESTS per page (default 60).
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("AURUM_LOG_LEVEL", "WARNING")
os.environ.setdefault(
    "AURUM_READ_CACHE", os.environ.get("BENCH_READ_CACHE", "true")
)  # no access line per request in the timings

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.accounts.services import membership_create, user_create  # noqa: E402
from apps.curves.models import Curve  # noqa: E402
from aurum.devstack.demo.ingest import demo_ingest  # noqa: E402
from tenants.models import Domain, Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

DAYS = int(os.environ.get("BENCH_DAYS", "10"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
DATASETS = ["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE"]


def load() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    if Curve.objects.exists():
        return
    started = time.perf_counter()
    files = demo_ingest(
        days=DAYS,
        fixtures_dir=REPO.parent / "shared" / "fixtures" / "eod",
        generated_dir=REPO / "var" / "bench-eod",
        stdout=io.StringIO(),
    )
    print(f"loaded {len(files)} workbooks in {time.perf_counter() - started:.0f} s")


def signed_in_client() -> Client:
    plan = plan_ensure(
        code="bench-portal", name="Bench portal", requests_per_second=10**6, burst=10**6, datasets=DATASETS
    )
    tenant = Tenant.objects.filter(schema_name="portalco").first() or tenant_create(
        name="Portal Co", schema_name="portalco", plan=plan
    )
    host = Domain.objects.filter(tenant=tenant).values_list("domain", flat=True).first()
    email = "analyst@portalco.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(email=email, password=None)
        membership_create(user=user, tenant=tenant, role="analyst")
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def pages() -> dict[str, str]:
    curve = min(
        Curve.objects.filter(dataset="vendor:EUGP"), key=lambda c: (abs(c.tenor_count - 121), c.curve_key)
    )
    rp = Curve.objects.filter(dataset="vendor:RP").order_by("-tenor_count", "curve_key").first()
    dates = sorted({d for d in Curve.objects.values_list("last_asof", flat=True)})
    last = curve.last_asof.isoformat()
    first = curve.first_asof.isoformat()
    tenor = f"{curve.last_asof.year + 1}-01"
    pages = {
        "home": "/",
        "catalog": "/curves/",
        "catalog search (htmx)": "/curves/?q=spark+peak",
        "curve": f"/curves/{curve.curve_key}/?asof={last}",
        "curve compare": f"/curves/{curve.curve_key}/?asof={last}&compare={first}",
        "curve lineage": f"/curves/{curve.curve_key}/lineage/?asof={last}&tenor={tenor}",
        "curve history": f"/curves/{curve.curve_key}/history/?tenor={tenor}",
        "curve export csv": f"/curves/{curve.curve_key}/export/?asof={last}&format=csv",
        "movers": f"/curves/movers/?asof_a={first}&asof_b={last}",
    }
    if rp is not None:
        pages["curve with bid/ask (RP)"] = f"/curves/{rp.curve_key}/?asof={rp.last_asof.isoformat()}"
    print(f"{len(dates)} distinct last as-of dates; curve {curve} with {curve.tenor_count} tenors")
    return pages


def measure(client: Client, path: str) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds (this process, DuckDB's threads included) per request: on a shared
    machine the wall clock includes waiting for a core, the CPU time does not."""
    headers: dict[str, Any] = (
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"} if "?q=" in path else {}
    )
    for _ in range(3):  # warm: connections, compiled templates, the query builder's cache
        client.get(path, **headers)
    wall, cpu = [], []
    for _ in range(REQUESTS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, **headers)
        if response.streaming:
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return wall, cpu


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def profile(client: Client, path: str) -> None:
    """BENCH_PROFILE=<page name>: where that page's time goes (cProfile, top 25 by cumulative time)."""
    import cProfile
    import pstats

    measure(client, path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        client.get(path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    load()
    client = signed_in_client()
    if os.environ.get("BENCH_PROFILE"):
        profile(client, pages()[os.environ["BENCH_PROFILE"]])
        return
    print(
        f"engine {settings.AURUM_QUERY_ENGINE}; {Curve.objects.count()} curves; {REQUESTS} requests per page"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for name, path in pages().items():
        wall, cpu = measure(client, path)
        print(
            f"{name:28} {statistics.median(wall):8.1f} {p95(wall):8.1f} {max(wall):8.1f}"
            f" {statistics.median(cpu):8.1f} {p95(cpu):8.1f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
