"""cProfile of the worker's side of scenario runs, in process: where one run's CPU goes.

The same scenario and curves as ``bench/scenario_runs.py``; N runs are submitted (no worker consumes their
tasks), the first one is executed unprofiled (it fills the per-process base-curve cache), then the others are
executed one after another under cProfile with ``scenario_run_execute`` exactly as the Celery task calls it
(start, compute, stage, group commit, events, dispatch). Sequential, so no lock wait and one run per group
commit: it shows per-run CPU, not concurrency effects.

Run: make bench BENCH=bench/scenario_run_profile.py      (PROFILE_RUNS, default 20; PROFILE_TOP,
default 45; PROFILE_OUT: a file for the raw pstats; PROFILE=0: time the runs, no profiler)
"""

import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario_runs as bench  # noqa: E402 (sets up Django)
from django_tenants.utils import tenant_context  # noqa: E402

from apps.scenarios.models import ScenarioRun  # noqa: E402
from apps.scenarios.services.execution import scenario_run_execute  # noqa: E402
from apps.scenarios.services.inputs import CurveSelection, RunOptions  # noqa: E402
from apps.scenarios.services.runs import scenario_runs_submit_bulk  # noqa: E402
from apps.scenarios.services.scenarios import scenario_create  # noqa: E402

N_RUNS = int(os.environ.get("PROFILE_RUNS", "20"))
TOP = int(os.environ.get("PROFILE_TOP", "45"))
PROFILE = os.environ.get("PROFILE", "1") != "0"  # PROFILE=0: CPU and wall per run without the profiler


def main() -> None:
    tenant, keys = bench.setup()
    with tenant_context(tenant):
        scenario = scenario_create(
            tenant=tenant,
            name=f"profile {uuid.uuid4().hex[:8]}",
            actor=None,
            assumptions=bench.ASSUMPTIONS,
            selection=CurveSelection(curve_keys=keys, base_asof=bench.ASOF),
        )
        options = [RunOptions(seed=i, parameters={"n_paths": bench.N_PATHS}) for i in range(N_RUNS)]
        started = time.perf_counter()
        scenario_runs_submit_bulk(tenant=tenant, scenario=scenario, runs=options, actor=None)
        print(f"bulk submit of {N_RUNS}: {time.perf_counter() - started:.3f} s")
        run_ids = [
            str(pk)
            for pk in ScenarioRun.objects.filter(scenario=scenario)
            .order_by("seed")
            .values_list("pk", flat=True)
        ]
        first = time.perf_counter()
        scenario_run_execute(run_id=run_ids[0], tenant=tenant)
        print(f"first run (fills the base-curve cache): {time.perf_counter() - first:.3f} s")
        profiler = cProfile.Profile()
        cpu, wall = time.process_time(), time.perf_counter()
        if PROFILE:
            profiler.enable()
        for run_id in run_ids[1:]:
            scenario_run_execute(run_id=run_id, tenant=tenant)
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        done = ScenarioRun.objects.filter(scenario=scenario, status="succeeded").count()
        n = len(run_ids) - 1
        print(
            f"{n} runs {'profiled' if PROFILE else 'timed'}: {wall / n * 1000:.1f} ms wall,"
            f" {cpu / n * 1000:.1f} ms CPU of this process per run"
            f"{' (with profiler overhead)' if PROFILE else ''}; {done} of {N_RUNS} succeeded;"
            f" load average {os.getloadavg()[0]:.2f}"
        )
        if not PROFILE:
            return
        if os.environ.get("PROFILE_OUT"):
            profiler.dump_stats(os.environ["PROFILE_OUT"])
        for sort in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(TOP)
            print(out.getvalue())


if __name__ == "__main__":
    main()
