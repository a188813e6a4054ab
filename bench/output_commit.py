"""One group commit of scenario outputs: 15 real runs' rows (20 EUGP curves, 4 drivers, 2,000 paths, ~10,200
rows a run) appended as one snapshot, pyiceberg's ``Table.append`` (rows in the commit order before decision
0070, one chunk) against ``aurum.lakehouse.partitions.rows_append`` (rows as staged now: each run
metric-first, runs concatenated), alternated on two tables of the scenario output spec (copied from a
``benchcommit`` tenant's output table, created once) in a private local catalog; plus the partition split
alone (pyiceberg's ``_determine_partitions`` against ``table_partitions``).

Run: make bench BENCH=bench/output_commit.py        (needs ../shared/fixtures)
CPU is this process's (the Parquet writer threads included); the lakehouse's transaction metadata memo
(decision 0048) is installed, as in a worker.
"""

import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

import pyarrow as pa  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402
from pyiceberg.io.pyarrow import _determine_partitions  # noqa: E402
from pyiceberg.table import Table  # noqa: E402
from scenario_runs import ASOF, ASSUMPTIONS, N_PATHS, setup  # noqa: E402

from apps.scenarios.engine import SCENARIO_OUTPUT_SCHEMA  # noqa: E402
from apps.scenarios.outputs import STAGED_SORT, output_table_ensure  # noqa: E402
from apps.scenarios.services.execution import scenario_run_compute, scenario_run_start  # noqa: E402
from apps.scenarios.services.inputs import CurveSelection, RunOptions  # noqa: E402
from apps.scenarios.services.runs import scenario_run_submit  # noqa: E402
from apps.scenarios.services.scenarios import scenario_create  # noqa: E402
from aurum.lakehouse.partitions import rows_append, table_partitions  # noqa: E402
from aurum.lakehouse.transaction_metadata import transaction_metadata_memo_install  # noqa: E402

RUNS = 15
OLD_COMMIT_SORT = ("run_id", "curve_key", "tenor_label", "contract_month", "metric")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
APPENDS = 5


def computed_runs() -> list[pa.Table]:
    tenant, keys = setup()
    with tenant_context(tenant):
        scenario = scenario_create(
            tenant=tenant,
            name=f"commit bench {uuid.uuid4().hex[:6]}",
            actor=None,
            assumptions=ASSUMPTIONS,
            selection=CurveSelection(curve_keys=keys, base_asof=ASOF),
        )
        tables = []
        for seed in range(RUNS):
            options = RunOptions(seed=seed, parameters={"n_paths": N_PATHS})
            submitted = scenario_run_submit(tenant=tenant, scenario=scenario, options=options, actor=None)
            run = scenario_run_start(str(submitted.run.pk))
            assert run is not None
            tables.append(scenario_run_compute(run=run, tenant=tenant)[1].cast(SCENARIO_OUTPUT_SCHEMA))
    return sorted(tables, key=lambda t: t.column("run_id")[0].as_py())


def output_table(catalog: SqlCatalog, name: str) -> Table:
    """A table with the scenario output table's schema, partition spec and sort order."""
    template = output_table_ensure("benchcommit")
    table = catalog.create_table(f"n.{name}", schema=template.schema(), properties=template.properties)
    with table.update_spec() as spec:
        for field in template.spec().fields:
            spec.add_field(template.schema().find_field(field.source_id).name, field.transform, field.name)
    return catalog.load_table(f"n.{name}")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(action, times: int) -> tuple[float, float]:
    """Median wall and CPU ms of ``times`` calls."""
    walls, cpus = [], []
    for _ in range(times):
        c0, w0 = cpu(), time.perf_counter()
        action()
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((cpu() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    transaction_metadata_memo_install()
    runs = computed_runs()
    before = pa.concat_tables(runs).sort_by([(c, "ascending") for c in OLD_COMMIT_SORT])
    staged = pa.concat_tables([run.sort_by([(c, "ascending") for c in STAGED_SORT]) for run in runs])
    print(f"{RUNS} runs, {staged.num_rows:,} rows a commit")
    with tempfile.TemporaryDirectory(prefix="aurum-commit-bench-") as folder:
        catalog = SqlCatalog("bench", uri=f"sqlite:///{folder}/c.db", warehouse=f"file://{folder}/wh")
        catalog.create_namespace("n")
        old, new = output_table(catalog, "pyiceberg"), output_table(catalog, "aurum")
        spec, schema = old.metadata.spec(), old.metadata.schema()
        split_old = timed(lambda: list(_determine_partitions(spec, schema, before)), 20)
        split_take = timed(lambda: list(table_partitions(spec, schema, before)), 20)
        split_slices = timed(lambda: list(table_partitions(spec, schema, staged)), 20)
        print(
            "partition split, wall / CPU ms: pyiceberg {:.1f} / {:.1f}; one sort and a take {:.1f} / {:.1f}; "
            "one sort and slices (runs staged metric-first) {:.1f} / {:.1f}".format(
                *split_old, *split_take, *split_slices
            )
        )
        for number in range(1, ROUNDS + 1):
            theirs = timed(lambda: old.append(before), APPENDS)
            ours = timed(lambda: rows_append(new, staged), APPENDS)
            print(
                f"round {number}: append, median of {APPENDS}, wall / CPU ms: Table.append {theirs[0]:.1f} / "
                f"{theirs[1]:.1f}, rows_append {ours[0]:.1f} / {ours[1]:.1f}"
            )


if __name__ == "__main__":
    main()
