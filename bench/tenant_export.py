"""What a whole-tenant export costs (time, archive size, memory) for a tenant with many scenarios, ledger
entries and PPA valuation rows, and what deleting that tenant (offboarding) takes.

Run: make bench BENCH=bench/tenant_export.py   (throwaway Postgres and Redis)
"""

import datetime
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.audit.services import audit_append  # noqa: E402
from apps.exports.archive import archive_write  # noqa: E402
from apps.offboarding.models import OffboardingReport  # noqa: E402
from apps.offboarding.services import tenant_offboard_execute  # noqa: E402
from apps.ppa.lakehouse import ppa_rows_append  # noqa: E402
from apps.scenarios.models import Scenario  # noqa: E402
from tenants.services import plan_ensure, tenant_create, tenant_suspend  # noqa: E402

SCENARIOS = int(os.environ.get("BENCH_SCENARIOS", "50000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "5000"))
PPA_ROWS = int(os.environ.get("BENCH_PPA_ROWS", "500000"))


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    plan = plan_ensure(code="bench", name="Bench")
    stamp = time.time_ns()
    tenant = tenant_create(name=f"Bench {stamp}", schema_name=f"b{stamp % 10**9}", plan=plan)
    with tenant_context(tenant):
        Scenario.objects.bulk_create(
            [
                Scenario(name=f"Scenario {n}", unique_key=f"b:{n}", parameters={"shock": n % 7}, tags=["x"])
                for n in range(SCENARIOS)
            ],
            batch_size=5000,
        )
        with transaction.atomic():
            for n in range(ENTRIES):
                audit_append(action="bench.step", resource_type="bench", resource_id=str(n), changes={"n": n})
    day = datetime.date(2025, 1, 1)
    ppa_rows_append(
        tenant=tenant,
        rows=[
            {"valuation_id": f"v{n // 1000}", "asof_date": day, "ppa_contract_id": f"c{n % 10}", "seq": n}
            for n in range(PPA_ROWS)
        ],
    )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "work"
        work.mkdir()
        target = Path(folder) / "export.zip"
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        archive = archive_write(tenant=tenant, work=work, target=target)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows = {f.path: f.rows for f in archive.files}
        print(
            f"export: {SCENARIOS} scenarios, {ENTRIES} ledger entries, {PPA_ROWS} PPA rows -> "
            f"{target.stat().st_size / 1e6:.1f} MB zip in {elapsed:.1f} s; peak Python memory "
            f"{peak / 1e6:.1f} MB, max RSS {rss_before / 1e3:.0f} -> {rss_after / 1e3:.0f} MB; rows {rows}"
        )
    tenant_suspend(tenant=tenant)
    report = OffboardingReport.objects.create(
        tenant=tenant, schema_name=tenant.schema_name, tenant_name=tenant.name, delete_after=timezone.now()
    )
    started = time.perf_counter()
    done = tenant_offboard_execute(report=report)
    elapsed = time.perf_counter() - started
    lake = done.report["lakehouse"]
    print(
        f"offboarding delete: {elapsed:.1f} s; {len(done.report['schema']['tables'])} tables, "
        f"{lake['files_removed']} files / {lake['bytes_removed'] / 1e6:.1f} MB removed"
    )


if __name__ == "__main__":
    main()
