"""Tenant provisioning time: a spare schema renamed, the migrated template cloned, every migration replayed.

Run: make bench BENCH=bench/tenant_provisioning.py   (throwaway Postgres and Redis)
BENCH_TENANTS (default 20) tenants each way. Spares are filled before the timed loop (their cloning is timed
separately, as the background refill it is in production); ``tenant_create`` is timed as an operator's call.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
os.environ["AURUM_TENANT_SPARE_SCHEMAS"] = "0"  # no refill task from the timed calls

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from tenants.models import SpareSchema, Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402
from tenants.spares import spares_fill  # noqa: E402

COUNT = int(os.environ.get("BENCH_TENANTS", "20"))


def provision(prefix: str, *, fakes: bool = True) -> list[float]:
    plan = plan_ensure(code="bench", name="Bench")
    timings = []
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=fakes):
        for i in range(COUNT):
            started = time.perf_counter()
            tenant_create(name=f"{prefix} {i}", schema_name=f"{prefix}_{i}", plan=plan)
            timings.append(time.perf_counter() - started)
    return timings


def report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(
        f"{label:<26} n={len(timings):>3}  median {statistics.median(timings) * 1000:8.1f} ms  "
        f"p95 {p95 * 1000:8.1f} ms  total {sum(timings):6.2f} s"
    )


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    tenant_create(name="warm", schema_name="warm_0", plan=plan_ensure(code="bench", name="Bench"))  # imports
    started = time.perf_counter()
    spares_fill(target=COUNT)
    fill_seconds = time.perf_counter() - started
    spare = provision("fromspare")
    assert SpareSchema.objects.count() == 0, "every timed provisioning should have taken a spare"
    clone = provision("clone")
    replay = provision("migr", fakes=False)
    print(f"tenants in the database afterwards: {Tenant.objects.count()}")
    print(f"cloning {COUNT} spares ahead of need (background work): {fill_seconds:.2f} s")
    report("rename a spare schema", spare)
    report("clone template schema", clone)
    report("replay migrations", replay)
    print(f"clone / spare (median): {statistics.median(clone) / statistics.median(spare):.1f}x")


if __name__ == "__main__":
    main()
