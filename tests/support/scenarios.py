"""Real curves for scenario tests (a real EUGP workbook ingested as its own (dataset, as-of) slice), and the
real moving parts around runs: staged runs, a held table lock, a Celery worker one may kill, a broker one
may not reach."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from apps.curves.services import curve_catalog_upsert
from apps.scenarios.outputs import output_table_name
from apps.scenarios.services.commit import scenario_run_stage
from apps.scenarios.services.execution import scenario_run_compute, scenario_run_start
from apps.scenarios.services.inputs import RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from aurum.celery import app
from aurum.devstack.services import free_port
from aurum.lakehouse.locks import advisory_lock_key, table_lock_name
from tests.support.paths import EOD_DIR
from tests.support.slices import read_slice
from tests.support.workers import queue_worker
from tests.support.world import database_url

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
EUGP_0911 = EOD_DIR / "EOD_EUGP_20250911_1430.xlsx"
BASE_DAY = date(2025, 6, 2)
N_CURVES = 8
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CurveSlice:
    asof: date
    curve_keys: tuple[str, ...]
    rows: pa.Table  # the slice's rows of those curves

    def mids(self, curve_key: str) -> dict[str, float]:
        """tenor_label -> mid of one curve, straight from the ingested rows."""
        mine = self.rows.filter(pc.equal(self.rows.column("curve_key"), curve_key))
        return dict(zip(mine.column("tenor_label").to_pylist(), mine.column("mid").to_pylist(), strict=True))

    def quoted_tenors(self) -> dict[str, int]:
        """curve_key -> how many tenors the vendor quotes (the rows not derived at ingest)."""
        quoted = self.rows.filter(pc.invert(pc.fill_null(self.rows.column("is_derived"), False)))
        counts: dict[str, set[str]] = {}
        for key, label in zip(
            quoted.column("curve_key").to_pylist(), quoted.column("tenor_label").to_pylist(), strict=True
        ):
            counts.setdefault(key, set()).add(label)
        return {key: len(labels) for key, labels in counts.items()}


def fixed_price_curves(asof: date, n: int = N_CURVES) -> CurveSlice:
    """The first ``n`` curves (by key) of the slice's 'Fixed Prices - Mid' sheet, with every tenor (monthly
    quotes and the strips derived from them)."""
    rows = read_slice("vendor:EUGP", asof)
    fixed = rows.filter(pc.equal(rows.column("sheet_name"), "Fixed Prices - Mid"))
    keys = tuple(sorted(set(fixed.column("curve_key").to_pylist()))[:n])
    mine = rows.filter(pc.is_in(rows.column("curve_key"), pa.array(keys, pa.string())))
    return CurveSlice(asof=asof, curve_keys=keys, rows=mine.filter(pc.is_valid(mine.column("mid"))))


def catalog_record(curves: CurveSlice) -> None:
    """Record the slice's curves in the curve catalog (as their ingest does; rolled back with the test)."""
    curve_catalog_upsert(published=curves.rows, dataset="vendor:EUGP", vendor="EUGP")


POLICY = {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}
STOCHASTIC = {
    "driver_type": "stochastic",
    "name": "gas",
    "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.3}, "base_driver": POLICY},
}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def staged_run(tenant: Any, scenario: Any, seed: int) -> tuple[Any, pa.Table]:
    """A run taken by a worker (started, computed, staged) that has not committed yet."""
    submitted = scenario_run_submit(
        tenant=tenant, scenario=scenario, options=RunOptions(seed=seed), actor=None
    )
    run = scenario_run_start(str(submitted.run.pk))
    assert run is not None
    base, table = scenario_run_compute(run=run, tenant=tenant)
    assert scenario_run_stage(run=run, tenant=tenant, base=base, table=table)
    return run, table


@contextmanager
def output_table_locked(schema: str) -> Iterator[None]:
    """Hold the tenant's output-table lock from another session, as a long commit would."""
    key = advisory_lock_key(table_lock_name(output_table_name(schema)))
    with psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's Celery app at a port nobody listens on (the broker is down), then back."""
    url = app.conf.broker_url

    def reconnect(to: str) -> None:
        app.conf.broker_url = to
        app._pool = None  # the producer pools are built from the URL on next use
        app.amqp._producer_pool = None

    reconnect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        reconnect(url)


@contextmanager
def scenario_worker(queue: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process that takes scenario runs from ``queue`` only and sends the runs it
    dispatches there too. The test may kill it; it is killed at exit otherwise."""
    with queue_worker(queue, AURUM_SCENARIO_RUN_QUEUE=queue) as process:
        yield process
