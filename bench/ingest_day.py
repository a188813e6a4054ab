"""One EOD day (EUGP + RP) from upload to queryable, through the production setup: gunicorn serving the API,
a Celery worker running the pipeline, DuckDB reading the result. Goal (issue 14): ≤ 1 s on this machine.
Days are uploaded once web server and worker answer ``/health/ready`` (warm-up done, decision 0046), so the
first day is the first ingest of a freshly started (and warmed) worker; the later days are steady state. Each
day also prints where its time went: the slower upload's POST, then per run (EUGP, RP) the wait in the queue
(created → started) and the run (started → finished) by the server's clock, and this process's DuckDB count.

Run: make bench BENCH=bench/ingest_day.py        (needs ../shared/fixtures)
"""

import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402
from sqlglot import exp  # noqa: E402

django.setup()

import _stack as stack  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from aurum.lakehouse.engines import DuckDBEngine  # noqa: E402
from aurum.lakehouse.sql import LakehouseQuery, ScanSpec, ascending, column, literal, scan_table  # noqa: E402
from aurum.lakehouse.tables import CURVE_OBSERVATION  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
DAYS = os.environ.get("BENCH_DAYS", "20250910,20250911,20250912").split(",")


def operator_token() -> str:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    tenant = Tenant.objects.filter(schema_name="benchops").first() or tenant_create(
        name="Bench Ops",
        schema_name="benchops",
        plan=plan_ensure(code="bench", name="Bench", requests_per_second=10**6, burst=10**6),
    )
    tenant.is_operator = True
    tenant.save()
    user = user_create(email=f"{uuid.uuid4().hex}@ops.example", password=None)
    return api_token_create(membership=membership_create(user=user, tenant=tenant, role="trader"), name="b")[
        1
    ]


def upload(base: str, token: str, path: Path) -> str:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base}/api/v2/ingest/runs",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202, response.status
        return str(response.headers["Location"])


def wait(base: str, token: str, location: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        request = urllib.request.Request(base + location, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            run = json.loads(response.read())["data"]  # the v2 object envelope
        if run["status"] not in ("queued", "running"):
            return dict(run)
        time.sleep(0.05)
    raise TimeoutError(f"{location} did not finish in 120 s: {run}")


def run_phases_ms(run: dict) -> tuple[int, int]:
    """(created → started, started → finished) of a run, in ms by the server's clock."""
    created, started, finished = (
        datetime.fromisoformat(run[k]) for k in ("created", "started_at", "finished_at")
    )
    return round((started - created).total_seconds() * 1000), round(
        (finished - started).total_seconds() * 1000
    )


def slice_counts(asof: str) -> LakehouseQuery:
    """Rows per dataset in the ``asof`` vintage."""
    select = (
        exp.select(column("dataset"), exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(scan_table("obs"))
        .where(column("asof_date").eq(literal(date.fromisoformat(asof))))
        .group_by(column("dataset"))
        .order_by(ascending(column("dataset")))
    )
    scan = ScanSpec(CURVE_OBSERVATION, "obs", row_filter=f"asof_date = '{asof}'")
    return LakehouseQuery(expression=select, scans=(scan,))


def main() -> None:
    token = operator_token()
    port = stack.free_port()
    env = stack.production_env(AURUM_SSL_REDIRECT="false")  # plain HTTP on loopback
    web = stack.start(stack.gunicorn_command(port, workers="2"), env=env)
    worker_log = open(stack.VAR / "bench-worker.log", "wb")  # noqa: SIM115
    worker = stack.start(stack.celery_worker_command("--concurrency", "2"), env=env, log=worker_log)
    base = f"http://127.0.0.1:{port}"
    timings = []
    try:
        stack.wait_port(port, processes={"gunicorn": web, "worker": worker})
        # The web server is warm and the worker's heartbeat is in.
        waited = stack.wait_ready(base, processes={"gunicorn": web, "worker": worker}, interval=0.2)
        print(f"web and worker ready {waited:.1f} s after the port opened")
        # This process reads the result as a warm web server would: its own catalog, table metadata and
        # DuckDB are opened first, on the first day's (still empty) slice, not timed with the first day.
        DuckDBEngine().query(slice_counts(f"{DAYS[0][:4]}-{DAYS[0][4:6]}-{DAYS[0][6:]}"))
        for day in DAYS:
            files = [EOD / f"EOD_EUGP_{day}_1430.xlsx", EOD / f"EOD_RP_{day}_1430.xlsx"]
            started = time.perf_counter()
            locations = [upload(base, token, f) for f in files]
            uploaded = time.perf_counter()
            runs = [wait(base, token, loc) for loc in locations]
            finished = time.perf_counter()
            asof = runs[0]["asof_date"]
            counts = DuckDBEngine().query(slice_counts(asof)).table.to_pylist()
            queried = time.perf_counter()
            elapsed = queried - started
            timings.append(elapsed)
            print(
                f"{day}: upload→queryable {elapsed:5.2f} s; runs {[r['status'] for r in runs]}; "
                f"stage ms {[r['stage_ms'] for r in runs]}; rows {counts}"
            )
            print(
                f"    uploads {(uploaded - started) * 1000:.0f} ms; queued / ran ms "
                f"{[run_phases_ms(r) for r in runs]}; last seen finished after "
                f"{(finished - started) * 1000:.0f} ms; count query {(queried - finished) * 1000:.0f} ms"
            )
    finally:
        for process in (web, worker):
            stack.stop(process)
    worker_log.close()
    errors = [
        ln for ln in Path(worker_log.name).read_text(errors="replace").splitlines() if "error" in ln.lower()
    ]
    if errors:
        print(f"{len(errors)} error lines in the worker log; first: {errors[0][:1500]}")
    print(
        f"median {statistics.median(timings):.2f} s, best {min(timings):.2f} s, worst {max(timings):.2f} s "
        f"over {len(timings)} days (goal ≤ 1 s)"
    )


if __name__ == "__main__":
    main()
