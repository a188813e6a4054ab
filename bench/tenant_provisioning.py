"""Tenant provisioning time: cloning the migrated template schema vs replaying every migration.

Run: make bench BENCH=bench/tenant_provisioning.py   (throwaway Postgres and Redis)
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

COUNT = int(os.environ.get("BENCH_TENANTS", "20"))


def provision(prefix: str, *, clone: bool) -> list[float]:
    plan = plan_ensure(code="bench", name="Bench")
    timings = []
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=clone):
        for i in range(COUNT):
            started = time.perf_counter()
            tenant_create(name=f"{prefix} {i}", schema_name=f"{prefix}_{i}", plan=plan)
            timings.append(time.perf_counter() - started)
    return timings


def report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print(
        f"{label:<22} n={len(timings):>3}  median {statistics.median(timings) * 1000:8.1f} ms  "
        f"p95 {p95 * 1000:8.1f} ms  total {sum(timings):6.2f} s"
    )


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    clone = provision("clone", clone=True)
    migrate = provision("migr", clone=False)
    print(f"tenants in the database afterwards: {Tenant.objects.count()}")
    report("clone template schema", clone)
    report("replay migrations", migrate)
    print(f"speed-up (median): {statistics.median(migrate) / statistics.median(clone):.1f}x")


if __name__ == "__main__":
    main()
