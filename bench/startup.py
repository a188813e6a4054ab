"""Start-up (issue 14): how long each process takes to become ready, and its first request after that.

For each kind of process, a fresh one is started the way production starts it, the bench waits until the
process says it is ready (``/health/ready`` for the servers, the worker's heartbeat for Celery), then times
the first request and a second, warm one of the same kind:

- gunicorn (deploy/gunicorn.conf.py, production settings, one worker so the first request surely lands on a
  fresh process): a v2 curve read, a v1 curve read, a portal page, ``/api/v2/schema/`` (a fresh server each);
- uvicorn (aurum.asgi, as the demo and the websocket service run it): a websocket connect, a v2 curve read;
- a Celery worker (every queue, prefork, as the demo runs it): an ingest task and a scenario run task,
  published → started (the run's ``started_at``) and published → finished;
- ``manage.py help`` and ``manage.py check``, wall time of the whole command.

Run: make bench BENCH=bench/startup.py      (real workbooks from ../shared/fixtures/eod when present)
     BENCH_ONLY=celery (a comma list of manage, gunicorn, uvicorn, celery) runs only those rows.
The machine's 2 cores are shared: the load average is printed with each figure.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

import _stack as stack  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.accounts.services import api_token_create, membership_create, user_create  # noqa: E402
from apps.curves.models import Curve  # noqa: E402
from apps.ingestion.models import IngestRun  # noqa: E402
from apps.ingestion.services import ingest_run_create, ingest_run_execute  # noqa: E402
from apps.ingestion.tasks import ingest_run_execute_task  # noqa: E402
from apps.scenarios.models import ScenarioRun  # noqa: E402
from apps.scenarios.services.inputs import CurveSelection, RunOptions  # noqa: E402
from apps.scenarios.services.runs import scenario_runs_submit_bulk  # noqa: E402
from apps.scenarios.services.scenarios import scenario_create  # noqa: E402
from aurum.devstack.demo.workbooks import demo_workbooks_write  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure, tenant_create  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
ONLY = {kind.strip() for kind in os.environ.get("BENCH_ONLY", "").split(",") if kind.strip()}
SCHEMA = "startco"
HOST = f"{SCHEMA}.localhost"
ASSUMPTIONS = [{"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}]


def wanted(kind: str) -> bool:
    return not ONLY or kind in ONLY


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def workbooks() -> list[Path]:
    """Three EUGP days: one loaded before the processes start, two for the worker's first and second
    ingest."""
    if EOD.is_dir():
        return sorted(EOD.glob("EOD_EUGP_*.xlsx"))[-3:]
    return [
        p
        for p in demo_workbooks_write(stack.VAR / "startup-eod", end=date.today(), days=3)
        if "EUGP" in p.name
    ]


def setup(first: Path) -> tuple[str, Curve, Tenant]:
    # The production settings serve hashed static files: pages fail without the manifest.
    subprocess.run(
        [str(stack.BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=server_env(),
        check=True,
    )
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    created = ingest_run_create(data=first.read_bytes(), file_name=first.name, source="command")
    ingest_run_execute(run_id=created.run.pk)
    plan = plan_ensure(
        code="bench-startup",
        name="Bench start-up",
        datasets=["vendor:EUGP"],
        requests_per_second=10**6,
        burst=10**6,
        concurrent_scenario_runs=4,
    )
    tenant = Tenant.objects.filter(schema_name=SCHEMA).first() or tenant_create(
        name="Start Co", schema_name=SCHEMA, plan=plan
    )
    user = user_create(email=f"starter{time.time_ns()}@startco.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="admin")
    token = api_token_create(membership=membership, name="start-up")[1]
    curve = Curve.objects.filter(dataset="vendor:EUGP").order_by("-tenor_count", "curve_key").first()
    assert curve is not None
    return token, curve, tenant


def server_env() -> dict[str, str]:
    return stack.production_env(AURUM_SSL_REDIRECT="false", AURUM_SECURE_COOKIES="false")


def wait_server(port: int, started: float, process: subprocess.Popen[bytes]) -> float:
    """Seconds from the start until /health/ready (web checks; no worker runs) answers 200."""
    base = f"http://127.0.0.1:{port}"
    stack.wait_ready(base, processes={"server (see var/bench-startup.log)": process}, skip_worker=True)
    return time.perf_counter() - started


def start_logged(command: list[str]) -> tuple[subprocess.Popen[bytes], float]:
    # In the checkout's var/ (the run's own folder is removed at the end): the processes' warm-up lines.
    started = time.perf_counter()
    return stack.start(command, env=server_env(), log=REPO / "var" / "bench-startup.log"), started


def timed_get(url: str, headers: dict[str, str]) -> tuple[float, int]:
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def gunicorn(path: str, headers: dict[str, str]) -> dict[str, Any]:
    port = stack.free_port()
    process, started = start_logged(stack.gunicorn_command(port, workers="1"))
    try:
        ready = wait_server(port, started, process)
        load_at = load()
        first, status = timed_get(f"http://127.0.0.1:{port}{path}", headers)
        second, _ = timed_get(f"http://127.0.0.1:{port}{path}", headers)
    finally:
        stack.stop(process)
    return {"ready_s": ready, "first_ms": first, "second_ms": second, "status": status, "load": load_at}


def ws_connect_ms(port: int, token: str) -> float:
    import websocket  # websocket-client

    started = time.perf_counter()
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{port}/ws/events/",
        header=[f"Authorization: Bearer {token}"],
        host=HOST,
        timeout=120,
    )
    elapsed = (time.perf_counter() - started) * 1000
    socket.close()
    return elapsed


def uvicorn(token: str, curve_path: str) -> dict[str, Any]:
    port = stack.free_port()
    process, started = start_logged(stack.uvicorn_command(port))
    try:
        ready = wait_server(port, started, process)
        load_at = load()
        ws_first = ws_connect_ms(port, token)
        ws_second = ws_connect_ms(port, token)
        auth = {"Authorization": f"Bearer {token}"}
        read_first, status = timed_get(f"http://127.0.0.1:{port}{curve_path}", auth)
        read_second, _ = timed_get(f"http://127.0.0.1:{port}{curve_path}", auth)
    finally:
        stack.stop(process)
    return {
        "ready_s": ready,
        "ws_first_ms": ws_first,
        "ws_second_ms": ws_second,
        "read_first_ms": read_first,
        "read_second_ms": read_second,
        "status": status,
        "load": load_at,
    }


def ingest_latency(path: Path) -> tuple[float, float]:
    """(published → started, published → finished) in ms of one ingest task."""
    created = ingest_run_create(data=path.read_bytes(), file_name=path.name, source="command")
    run = created.run
    sent = time.time()
    ingest_run_execute_task.apply_async((run.pk,))
    while True:
        run.refresh_from_db()
        if run.status not in (IngestRun.Status.QUEUED, IngestRun.Status.RUNNING) and run.started_at:
            break
        time.sleep(0.01)
    finished = time.time()
    assert run.status in IngestRun.PUBLISHED, run.status
    return (run.started_at.timestamp() - sent) * 1000, (finished - sent) * 1000


def scenario_latency(tenant: Tenant, keys: tuple[str, ...], asof: date) -> tuple[float, float]:
    with tenant_context(tenant):
        scenario = scenario_create(
            tenant=tenant,
            name=f"start-up {uuid.uuid4().hex[:8]}",
            actor=None,
            assumptions=ASSUMPTIONS,
            selection=CurveSelection(curve_keys=keys, base_asof=asof),
        )
        sent = time.time()
        scenario_runs_submit_bulk(tenant=tenant, scenario=scenario, runs=[RunOptions(seed=1)], actor=None)
        runs = ScenarioRun.objects.filter(scenario=scenario)
        while runs.exclude(status__in=ScenarioRun.FINISHED).exists():
            time.sleep(0.01)
        finished = time.time()
        run = runs.get()
        assert run.status == "succeeded", run.error_message
        assert run.started_at is not None
        return (run.started_at.timestamp() - sent) * 1000, (finished - sent) * 1000


def celery(tenant: Tenant, keys: tuple[str, ...], asof: date, days: list[Path]) -> dict[str, Any]:
    process, started = start_logged(
        stack.celery_worker_command("--concurrency", "2", "-n", f"startup-{uuid.uuid4().hex[:6]}@%h")
    )
    try:
        stack.wait_workers(processes={"worker (see var/bench-startup.log)": process})
        ready = time.perf_counter() - started
        load_at = load()
        ingest_first = ingest_latency(days[0])
        scenario_first = scenario_latency(tenant, keys, asof)
        ingest_second = ingest_latency(days[1])
        scenario_second = scenario_latency(tenant, keys, asof)
    finally:
        stack.stop(process)
    return {
        "ready_s": ready,
        "ingest_first": ingest_first,
        "ingest_second": ingest_second,
        "scenario_first": scenario_first,
        "scenario_second": scenario_second,
        "load": load_at,
    }


def manage(args: list[str]) -> tuple[float, str]:
    load_at = load()
    started = time.perf_counter()
    subprocess.run(
        [str(stack.BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=server_env(),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started, load_at


def main() -> None:
    days = workbooks()
    token, curve, tenant = setup(days[0])
    asof = IngestRun.objects.filter(status__in=IngestRun.PUBLISHED).latest("asof_date").asof_date
    assert asof is not None
    keys = (curve.curve_key,)
    auth = {"Authorization": f"Bearer {token}"}
    v2 = f"/api/v2/curves/{curve.curve_key}"
    print(f"curve {curve.curve_key[:12]}… ({curve.tenor_count} tenors); load average {load()}")
    for _ in range(ROUNDS):
        for name, args in (
            (("manage.py help", ["help"]), ("manage.py check", ["check"])) if wanted("manage") else ()
        ):
            seconds, load_at = manage(args)
            print(f"{name:<34} {seconds:6.2f} s                       (load {load_at})")
        cases = [
            ("gunicorn: v2 curve read", v2, auth),
            ("gunicorn: v1 curve read", f"/api/v1/curves?curve_key={curve.curve_key}", auth),
            ("gunicorn: portal sign-in page", "/login/", {"Host": HOST}),
            ("gunicorn: /api/v2/schema/", "/api/v2/schema/", {}),
        ]
        for name, path, headers in cases if wanted("gunicorn") else []:
            r = gunicorn(path, headers)
            print(
                f"{name:<34} ready {r['ready_s']:5.2f} s, first {r['first_ms']:7.1f} ms, "
                f"second {r['second_ms']:7.1f} ms (HTTP {r['status']}, load {r['load']})"
            )
        if wanted("uvicorn"):
            uvicorn_print(uvicorn(token, v2))
        if wanted("celery"):
            celery_print(celery(tenant, keys, asof, days[1:]))
    print(f"load average at the end {load()}")


def uvicorn_print(r: dict[str, Any]) -> None:
    print(
        f"{'uvicorn: websocket connect':<34} ready {r['ready_s']:5.2f} s, "
        f"first {r['ws_first_ms']:7.1f} ms, second {r['ws_second_ms']:7.1f} ms (load {r['load']})"
    )
    print(
        f"{'uvicorn: v2 curve read':<34} (same server) first {r['read_first_ms']:7.1f} ms, "
        f"second {r['read_second_ms']:7.1f} ms (HTTP {r['status']})"
    )


def celery_print(r: dict[str, Any]) -> None:
    print(f"{'celery worker':<34} ready (heartbeat) {r['ready_s']:5.2f} s (load {r['load']})")
    for kind in ("ingest", "scenario"):
        (s1, f1), (s2, f2) = r[f"{kind}_first"], r[f"{kind}_second"]
        print(
            f"  {kind + ' task':<32} published→started first {s1:7.1f} ms, second {s2:7.1f} ms; "
            f"→finished first {f1:7.1f} ms, second {f2:7.1f} ms"
        )


if __name__ == "__main__":
    main()
