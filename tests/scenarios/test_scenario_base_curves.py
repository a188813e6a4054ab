"""A run's base curves: read once per worker process and snapshot, also when a bulk's first runs start
together on a pool's threads (issue 14)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

from apps.scenarios.models import ScenarioRun
from apps.scenarios.selectors import BaseCurves, BaseCurvesError, run_base_curves
from aurum.lakehouse.tables import curve_observation_table
from tests.support.observability import read_spans, tracing_to

THREADS = 4


def _runs(curves: Any, keys: list[str]) -> list[ScenarioRun]:
    snapshot = curve_observation_table().current_snapshot()
    assert snapshot is not None
    return [
        ScenarioRun(
            id=uuid.uuid4(),
            curve_snapshot_id=snapshot.snapshot_id,
            base_asof_requested=curves.asof,
            options={"inputs": {"curve_keys": keys}},
        )
        for _ in range(THREADS)
    ]


def test_runs_starting_together_read_their_base_curves_once(in_acme, eugp_curves, tmp_path):
    # A selection no other test has read in this process (the cache is per process): an unknown key too.
    keys = [*eugp_curves.curve_keys[:3], f"no-such-curve-{uuid.uuid4()}"]
    runs = _runs(eugp_curves, keys)
    together = threading.Barrier(THREADS)

    def start(run: ScenarioRun) -> BaseCurves:
        together.wait()
        try:
            return run_base_curves(run=run, tenant=in_acme)
        finally:
            connection.close()  # this thread's own connection

    spans = tmp_path / "spans.jsonl"
    with tracing_to(spans), ThreadPoolExecutor(THREADS) as pool:
        bases = list(pool.map(start, runs))

    reads = [s for s in read_spans(spans) if s["name"] == "lakehouse.query"]
    assert len(reads) == 1
    assert all(base is bases[0] for base in bases)
    assert bases[0].curves.curve_keys == tuple(sorted(eugp_curves.curve_keys[:3]))
    assert (
        bases[0].curves.mid.tolist()[0][0]
        == eugp_curves.mids(bases[0].curves.curve_keys[0])[bases[0].curves.tenor_labels[0]]
    )


def test_a_read_that_failed_is_not_kept_and_the_next_run_reads_again(in_acme, eugp_curves, tmp_path):
    keys = [f"no-such-curve-{uuid.uuid4()}"]  # nothing to read: every read fails
    first, second = _runs(eugp_curves, keys)[:2]
    spans = tmp_path / "spans.jsonl"
    failures = 0
    with tracing_to(spans):
        for run in (first, second):
            try:
                run_base_curves(run=run, tenant=in_acme)
            except BaseCurvesError:
                failures += 1

    assert failures == 2
    assert len([s for s in read_spans(spans) if s["name"] == "lakehouse.query"]) == 2
