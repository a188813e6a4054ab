"""Server time of the portal's operations pages (issue 10: p95 ≤ 150 ms per page).

An operators' tenant with real EUGP and RP days ingested (and one small synthetic workbook with quarantined
rows), 300 earlier runs in its history, 20 members with 3 tokens each; then each page is asked ROUNDS times
through Django's test client, in process (middleware, session, tenant, view, template; no network), with
DEBUG off as in production (templates compiled once) and no access log:
``/ingestion/`` (full page and the polled fragment), a run's page, its quarantine review, ``/settings/``.

Run: make bench BENCH=bench/portal_ops_pages.py   (throwaway Postgres and Redis)
"""

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
# As served: DEBUG off (cached templates), no log line per request.
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("AURUM_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from apps.ingestion.models import IngestRun  # noqa: E402
from apps.ingestion.services import ingest_run_create, ingest_run_execute  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402
from tests.support.paths import EOD_DIR  # noqa: E402
from tests.support.workbooks import MONTHS, eugp_workbook  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
DAYS = ("20250801", "20250804", "20250805")


def timed(client: Client, label: str, path: str, **headers: Any) -> None:
    assert client.get(path, **headers).status_code == 200, path  # warm
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        client.get(path, **headers)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{label:<34} median {statistics.median(samples):6.1f} ms  p95 {p95:6.1f} ms  "
        f"max {samples[-1]:6.1f} ms"
    )


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    stamp = time.time_ns() % 10**9
    plan = plan_ensure(code=f"bench{stamp}", name="Bench", datasets=["vendor:EUGP", "vendor:RP"])
    tenant = tenant_create(name=f"Bench ops {stamp}", schema_name=f"bops{stamp}", plan=plan)
    tenant.is_operator = True
    tenant.save(update_fields=["is_operator"])
    host = tenant.domains.get().domain
    admin = None
    for n in range(20):
        user = user_create(email=f"m{n}.{stamp}@bench.example", password=None)
        membership = membership_create(user=user, tenant=tenant, role="admin" if n < 2 else "analyst")
        admin = admin or user
        for t in range(3):
            api_token_create(membership=membership, name=f"token {t}")
    runs = []
    for vendor in ("EUGP", "RP"):
        for day in DAYS:
            data = (EOD_DIR / f"EOD_{vendor}_{day}_1430.xlsx").read_bytes()
            created = ingest_run_create(
                data=data, file_name=f"EOD_{vendor}_{day}_1430.xlsx", source="command"
            )
            runs.append(ingest_run_execute(run_id=created.run.pk))
    crossed = [[f"{30 + t / 10:.1f} / {29 + t / 10:.1f}", "31.0 / 31.2"] for t in range(len(MONTHS))]
    created = ingest_run_create(
        data=eugp_workbook(asof=date(2024, 6, 3), bid_asks=crossed),
        file_name="EOD_EUGP_20240603_1430.xlsx",
        source="command",
    )
    quarantined = ingest_run_execute(run_id=created.run.pk)
    IngestRun.objects.bulk_create(
        IngestRun(
            file_name=f"EOD_EUGP_old_{i}.xlsx",
            sha256=f"{i:064x}",
            size_bytes=1,
            raw_uri="",
            source="command",
            dataset="vendor:EUGP",
            status="succeeded",
            stage_ms={"read": 1.0},
        )
        for i in range(300)
    )
    print(f"runs: {IngestRun.objects.count()}, quarantined rows in one run: {quarantined.rows_quarantined}")

    client = Client(HTTP_HOST=host)
    assert admin is not None
    client.force_login(admin)
    timed(client, "/ingestion/", "/ingestion/")
    timed(
        client, "/ingestion/ (polled fragment)", "/ingestion/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="live"
    )
    timed(client, "/ingestion/runs/<id>/", f"/ingestion/runs/{runs[0].pk}/")
    timed(client, "/ingestion/runs/<id>/quarantine/", f"/ingestion/runs/{quarantined.pk}/quarantine/")
    timed(client, "/settings/ (admin: 60 tokens, 20 members)", "/settings/")
    if os.environ.get("BENCH_PROFILE"):  # where one request of that page spends its time
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            for _ in range(20):
                client.get(os.environ["BENCH_PROFILE"])
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
