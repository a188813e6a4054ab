"""Start-up warm-up (aurum/warmup.py, issue 14): every step runs against the real stack, a failing step does
not stop a process from starting, and each real process (gunicorn, uvicorn, a Celery worker) is warm before it
takes work: its readiness (the server answering, the worker's heartbeat) comes after the warm-up."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings

from aurum.api import schema_view
from aurum.devstack.__main__ import workers_beating
from aurum.devstack.services import free_port
from aurum.health.checks import HEARTBEATS_KEY
from aurum.health.worker import heartbeat_pid
from aurum.lakehouse import catalog as lakehouse_catalog
from aurum.lakehouse.catalog import get_catalog
from aurum.warmup import warm_up, warm_up_connections
from tests.support.paths import EOD_DIR
from tests.support.world import database_url

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def warm_settings(settings: Any) -> Any:
    settings.AURUM_WARM_UP = True
    # Listening here would make triggers inside the test's transaction (tests/platform/test_process_caches.py
    # covers it; the servers below listen for real).
    settings.AURUM_PROCESS_CACHE = False
    return settings


def test_a_web_warm_up_imports_resolves_compiles_and_opens_the_lakehouse(warm_settings, db):
    from django.urls import get_resolver

    results = warm_up("web")

    assert [r.name for r in results] == [
        "imports",
        "urls",
        "templates",
        "openapi",
        "cache",
        "broker",
        "lakehouse",
        "process caches",
    ]
    assert {r.name: r.detail for r in results if not r.ok} == {}
    assert results[-1].detail == "off"
    assert {"duckdb", "pyiceberg.table", "apps.curves.selectors"} <= set(sys.modules)
    assert get_resolver(settings.ROOT_URLCONF)._populated  # type: ignore[attr-defined]
    assert lakehouse_catalog._catalogs  # the catalog and its pool are open in this process
    assert "/api/v2/curves/{curve_key}" in schema_view._documents[None]["paths"]


def test_a_web_warm_up_leaves_a_full_collection_nothing_of_its_own_to_walk(warm_settings, db):
    """Decision 0073: what the warm-up built is frozen, so a full collection no longer pauses the process's
    request threads to walk it."""
    gc.unfreeze()
    try:
        warm_up("web")
        frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
    finally:
        gc.unfreeze()

    assert frozen > 100_000  # the modules, resolvers, templates and schema the warm-up loaded
    assert tracked < frozen / 10  # what a full collection still walks


def test_a_worker_warm_up_before_a_fork_opens_no_connection(warm_settings, db):
    lakehouse_catalog.catalog_dispose()

    results = warm_up("worker", connections=False)

    assert [r.name for r in results] == ["imports"]
    assert results[0].ok, results[0].detail
    assert {"apps.ingestion.services", "apps.scenarios.engine"} <= set(sys.modules)
    assert lakehouse_catalog._catalogs == {}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_failing_step_is_reported_and_the_process_goes_on(warm_settings, db):
    # A catalog on a Postgres that is not there: the lakehouse step fails, quickly, and says why.
    closed = free_port()
    warm_settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": str(closed)},
    }
    lakehouse_catalog.catalog_dispose()
    try:
        cached, broker, result, *rest = warm_up_connections("worker")
    finally:
        lakehouse_catalog.catalog_dispose()

    assert cached.ok, cached.detail
    assert broker.ok, broker.detail  # Redis is there
    assert result.name == "lakehouse"
    assert not result.ok
    assert "OperationalError" in result.detail
    assert [r.name for r in rest] == ["rehearsals"]  # each step ran; the rehearsal needs Postgres too
    assert not rest[0].ok


def _warehouse_files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_a_worker_warm_up_rehearses_an_ingest_and_writes_nothing(warm_settings, lake, db):
    """Decision 0051: a pool process pays its first ingest's once-per-process costs at start-up (the
    reference units read, every writing-free stage run on a sample workbook), and
    the rehearsal leaves no trace: no run, no catalog row, no snapshot, no file in the warehouse."""
    from apps.curves.models import Curve
    from apps.ingestion.models import IngestRun
    from apps.reference import selectors as reference_selectors
    from aurum.lakehouse.tables import curve_latest_table, curve_observation_table, curve_quarantine_table

    def snapshots() -> list[int | None]:
        tables = (curve_observation_table(), curve_quarantine_table(), curve_latest_table())
        return [t.metadata.current_snapshot_id for t in tables]

    files, before = _warehouse_files(lake.warehouse), snapshots()
    runs, curves = list(IngestRun.objects.values_list("pk", "status")), list(Curve.objects.values_list())
    reference_selectors._units_memo.clear()

    results = warm_up_connections("worker")

    assert [r.name for r in results] == ["cache", "broker", "lakehouse", "rehearsals"]
    assert {r.name: r.detail for r in results if not r.ok} == {}
    assert results[3].detail == "2 workbooks, rows published EUGP 304, RP 35,360, 4 Parquet files rehearsed"
    assert "units" in reference_selectors._units_memo
    assert snapshots() == before
    assert _warehouse_files(lake.warehouse) == files
    assert list(IngestRun.objects.values_list("pk", "status")) == runs
    assert list(Curve.objects.values_list()) == curves


def test_the_rp_rehearsal_runs_at_a_real_rp_days_size_on_distinct_curves(db):
    """Decision 0056: the rehearsed RP rows are a real RP day's count or more (the first use of the Arrow
    stages at that size is what a first ingest paid), made of copies of the sample whose curves are
    distinct: the rules quarantine and collapse exactly what they do in the sample, once per copy."""
    from apps.ingestion.parsers.enrichment import enrich
    from apps.ingestion.parsers.quality import quarantine_split
    from apps.ingestion.parsers.workbook import parse_workbook
    from apps.ingestion.warmup import RP_REHEARSAL_ROWS, SAMPLE_ASOF, rows_scaled
    from apps.reference.selectors import units_lookup
    from aurum.devstack.demo.workbooks import rp_demo_workbook

    def parsed(data: bytes, name: str) -> Any:
        return parse_workbook(data, filename=name, max_bytes=settings.AURUM_INGEST_MAX_BYTES).rows

    real = parsed((EOD_DIR / "EOD_RP_20250902_1430.xlsx").read_bytes(), "EOD_RP_20250902_1430.xlsx")
    sample = parsed(rp_demo_workbook(SAMPLE_ASOF, 0, months=24), "EOD_RP_20250902_1430.xlsx")

    scaled = rows_scaled(sample, RP_REHEARSAL_ROWS)

    copies = -(-RP_REHEARSAL_ROWS // sample.num_rows)
    assert scaled.num_rows == copies * sample.num_rows >= real.num_rows * 0.99  # 28,044 real rows
    assert len(set(scaled.column("curve_key").to_pylist())) == copies * len(
        set(sample.column("curve_key").to_pylist())
    )
    clean, held = quarantine_split(enrich(sample, units_lookup()))
    scaled_clean, scaled_held = quarantine_split(enrich(scaled, units_lookup()))
    assert (scaled_clean.num_rows, scaled_held.num_rows) == (copies * clean.num_rows, copies * held.num_rows)
    assert all(column.num_chunks == 1 for column in scaled.columns)  # as a parsed workbook's


# A fresh process (the test settings, so the suite's Redis) that imports what a web process's warm-up imports,
# runs the broker step or not, then sends a task as an upload does, and prints the modules that send imported.
_FIRST_PUBLISH = """
import sys
import django
django.setup()
from aurum.warmup import WEB_MODULES, broker_open, modules_import
modules_import(WEB_MODULES)
if sys.argv[2] == "warm":
    broker_open()
from aurum.celery import app
before = set(sys.modules)
app.send_task("warm-up.nothing", queue=sys.argv[1])
print(sorted(set(sys.modules) - before))
"""


def _first_publish_imports(queue: str, *, warm: bool) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aurum.settings.test"}
    command = [sys.executable, "-c", _FIRST_PUBLISH, queue, "warm" if warm else "cold"]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.splitlines()[-1].replace("'", '"')))


def test_after_the_broker_step_a_first_task_publish_imports_nothing():
    """Decision 0056: a fresh web process's first upload spent ~250 ms importing Celery's broker transport,
    result backend and event dispatcher, and connecting, when it sent the ingest task; after the warm-up's
    broker step (and its import list) that send imports nothing. Without the step it imports the transport."""
    queue = f"warm-up-publish-{os.getpid()}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        cold = _first_publish_imports(queue, warm=False)
        warm = _first_publish_imports(queue, warm=True)
        sent = client.llen(queue)
    finally:
        client.delete(queue, f"_kombu.binding.{queue}")

    assert "kombu.transport.redis" in cold
    assert warm == []
    assert sent == 2


def test_warm_up_is_off_when_the_setting_says_so(settings):
    settings.AURUM_WARM_UP = False

    assert warm_up("web") == []
    assert warm_up_connections("worker") == []


# --- real processes ----------------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "aurum.settings.test",
        "AURUM_WARM_UP": "true",
        "AURUM_LOG_FORMAT": "json",
        **extra,
    }


def _warm_up_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if "warm-up finished" in line and line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _timestamp(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


@pytest.fixture
def process_log(tmp_path: Path) -> Path:
    return tmp_path / "process.log"


def _started(command: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO, env=_env(**env), stdout=out, stderr=subprocess.STDOUT)


def _stopped(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _first_answer(port: int, process: subprocess.Popen[bytes], log: Path) -> float:
    """The time /health/live first answers 200."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=60) as response:
                if response.status == 200:
                    return time.time()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise AssertionError("the server never answered; " + log.read_text(errors="replace")[-3000:])


@pytest.fixture
def server(
    request: pytest.FixtureRequest, process_log: Path, django_db_setup: None
) -> Iterator[tuple[str, Any]]:
    port = free_port()
    if request.param == "gunicorn":
        command = [
            str(BIN / "gunicorn"),
            "-c",
            "deploy/gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
        ]
        command.append("aurum.wsgi:application")
    else:
        command = [str(BIN / "uvicorn"), "aurum.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    process = _started(command, process_log, PROMETHEUS_MULTIPROC_DIR=str(process_log.parent))
    try:
        answered = _first_answer(port, process, process_log)
        yield request.param, answered
    finally:
        _stopped(process)


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"], indirect=True)
def test_a_server_answers_only_once_it_is_warm(server, process_log):
    _, first_answer = server

    [event] = _warm_up_lines(process_log)

    assert event["process"] == "web"
    assert event["failed"] is None
    assert set(event["steps"]) == {
        "imports", "urls", "templates", "openapi", "cache", "broker", "lakehouse", "process caches"
    }  # fmt: skip
    assert _timestamp(event) <= first_answer


def _worker_command(pool: str, queue: str, concurrency: int) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "aurum",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "-Q",
        queue,
        "--without-mingle",
        "--without-gossip",
        "-l",
        "INFO",
        "-n",
        f"{queue}@%h",
    ]


def _beat_of(client: redis.Redis, process: subprocess.Popen[bytes]) -> float | None:
    """The time of the worker's last heartbeat (Redis server time), None before its first."""
    members: list[tuple[bytes, float]] = client.zrange(HEARTBEATS_KEY, 0, -1, withscores=True)  # type: ignore[assignment]
    return next((score for member, score in members if heartbeat_pid(member) == process.pid), None)


def _until(condition: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600
    while not condition():
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.1)


# A process that takes tasks warms all of it (decision 0051: the ingest rehearsal).
WORKER_STEPS = ["broker", "cache", "imports", "lakehouse", "rehearsals"]


@pytest.mark.parametrize(("pool", "where"), [("threads", 1), ("prefork", 2)])
def test_a_worker_beats_only_once_it_is_warm(pool, where, process_log, django_db_setup):
    """threads: one warm-up with connections in the main process; prefork: the imports in the main process,
    then the pool process's own warm-up (the imports it inherited, the connections)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = f"warm-up-{os.getpid()}-{pool}"
    process = _started(_worker_command(pool, queue, 1), process_log)
    beat: list[float | None] = [None]
    try:

        def warm_and_beaten() -> bool:
            beat[0] = _beat_of(client, process)
            return beat[0] is not None and len(_warm_up_lines(process_log)) >= where

        _until(warm_and_beaten, process, process_log)
    finally:
        _stopped(process)

    events = _warm_up_lines(process_log)
    assert [sorted(e["steps"]) for e in events] == (
        [WORKER_STEPS] if pool == "threads" else [["imports"], WORKER_STEPS]
    )
    assert all(e["failed"] is None for e in events), events
    assert beat[0] is not None
    assert all(_timestamp(e) <= beat[0] for e in events)  # every process was warm before the first heartbeat


def _blocked_by(watcher: psycopg.Connection[Any], holder: psycopg.Connection[Any]) -> int:
    """How many database sessions wait for a lock ``holder`` holds."""
    row = watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
        [holder.info.backend_pid],
    ).fetchone()
    return int(row[0]) if row else 0


def _said_ready(log: Path, queue: str) -> bool:
    """Celery logged '<name> ready.': every bootstep of the worker, the heartbeat step too, has started."""
    return any(
        f"{queue}@" in line and "ready." in line for line in log.read_text(errors="replace").splitlines()
    )


def test_a_prefork_worker_beats_only_once_every_pool_process_is_warm(process_log, django_db_setup):
    """Given a prefork worker whose two pool processes are held in their warm-up (the Iceberg catalog's table
    is locked, so their lakehouse step waits) while its main process is warm and has started every step, when
    the lock is released, then the worker beats only after that, once both pool processes have finished."""
    get_catalog()  # the catalog's tables exist, to be locked
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = f"warm-pool-{os.getpid()}"
    url = database_url().replace("postgres://", "postgresql://")
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        holder.execute("LOCK TABLE iceberg_tables IN ACCESS EXCLUSIVE MODE")
        process = _started(_worker_command("prefork", queue, 2), process_log)
        try:
            _until(
                lambda: _blocked_by(watcher, holder) == 2 and _said_ready(process_log, queue),
                process,
                process_log,
            )
            beat_while_warming = _beat_of(client, process)
            demo_saw_while_warming = workers_beating(settings.REDIS_URL, {process.pid}, since=0)
            events_while_warming = [sorted(e["steps"]) for e in _warm_up_lines(process_log)]
            holder.rollback()  # the pool processes' warm-up goes on
            _until(lambda: _beat_of(client, process) is not None, process, process_log)
            beat = _beat_of(client, process)
            demo_saw = workers_beating(settings.REDIS_URL, {process.pid, process.pid + 10**7}, since=0)
        finally:
            _stopped(process)

    assert beat_while_warming is None
    # What `make demo` waits for before it says the workers are ready: this worker, and no other.
    assert (demo_saw_while_warming, demo_saw) == (set(), {process.pid})
    assert events_while_warming == [["imports"]]  # the main process only
    events = _warm_up_lines(process_log)
    assert [sorted(e["steps"]) for e in events] == [["imports"], WORKER_STEPS, WORKER_STEPS]
    assert all(e["failed"] is None for e in events), events
    assert beat is not None
    assert all(_timestamp(e) <= beat for e in events)


def _logged_at(log: Path, text: str) -> float | None:
    """The timestamp of the first JSON log line whose event contains ``text``; None when none does."""
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and text in line:
            event = json.loads(line)
            if text in str(event.get("event", "")):
                return _timestamp(event)
    return None


def test_a_worker_beats_only_once_its_consumer_takes_tasks(process_log, django_db_setup):
    """Given a thread-pool worker that is warm before its first step starts, with mingle on (it waits a second
    for its neighbours' replies before the consumer takes tasks), the first heartbeat comes after mingle has
    finished: readiness means the worker takes tasks, not only that its pool is warm (decision 0068)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = f"consuming-{os.getpid()}"
    command = [arg for arg in _worker_command("threads", queue, 1) if arg != "--without-mingle"]
    process = _started(command, process_log)
    try:
        _until(lambda: _beat_of(client, process) is not None, process, process_log)
        beat = _beat_of(client, process)
        mingled = _logged_at(process_log, "mingle: all alone") or _logged_at(process_log, "mingle: sync")
    finally:
        _stopped(process)

    assert "--without-mingle" not in command
    assert beat is not None and mingled is not None, process_log.read_text(errors="replace")[-3000:]
    assert mingled <= beat
