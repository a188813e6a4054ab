"""What the audit ledger costs: one append in its own transaction (the lock, the head read, the insert), the
chain verification per entry, and the JSONL export's throughput and memory over a long ledger.

Run: make bench BENCH=bench/audit_ledger.py   (throwaway Postgres and Redis)
"""

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.audit.export import export_jsonl  # noqa: E402
from apps.audit.selectors import audit_head  # noqa: E402
from apps.audit.services import audit_append  # noqa: E402
from apps.audit.verification import audit_chain_verify  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2000"))
CHANGES = {"name": "Cold winter", "version": 3, "tags": ["gas", "winter"], "parameters": {"shock": "0.15"}}


def append() -> None:
    with transaction.atomic():
        audit_append(action="scenario.update", resource_type="scenario", resource_id="s-1", changes=CHANGES)


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    plan = plan_ensure(code="bench", name="Bench")
    stamp = time.time_ns()
    tenant = tenant_create(name=f"Bench {stamp}", schema_name=f"b{stamp % 10**9}", plan=plan)
    with tenant_context(tenant):
        append()
        with CaptureQueriesContext(connection) as queries:
            append()
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            append()
            samples.append(time.perf_counter() - started)
        print(
            f"append (own transaction): median {statistics.median(samples) * 1e6:.0f} µs, "
            f"p95 {sorted(samples)[int(len(samples) * 0.95)] * 1e6:.0f} µs, queries {len(queries)}"
        )
        started = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - started
        print(
            f"verify {report.checked} entries: {elapsed * 1000:.0f} ms "
            f"({elapsed / report.checked * 1e6:.0f} µs/entry)"
        )
        head = audit_head()
    tracemalloc.start()
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in export_jsonl(tenant=tenant, head=head))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"export jsonl of {head.sequence} entries: {size / 1e6:.1f} MB in {elapsed * 1000:.0f} ms, "
        f"peak Python memory {peak / 1e6:.1f} MB (pages of 1000)"
    )


if __name__ == "__main__":
    main()
