"""Every lakehouse read path on a live Trino equals the same read on DuckDB, over the same data: real
fixture workbooks ingested through the pipeline, and rows of every other table a read reads
(tests/support/trino_live.py). The Trino tests run whenever ``AURUM_TRINO_URL`` is set (e.g.
``http://aurum@127.0.0.1:8080``) and are skipped otherwise: a skip here is not a pass. How to run them against
a cluster (``docker run trinodb/trino`` with deploy/trino/): docs/operations.md, "Reads on Trino".

Without a cluster, ``test_every_read_path_reads_rows_on_duckdb`` still checks that the data and the paths
the comparison uses read rows, so a live run compares something.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aurum.lakehouse import queries
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.engines import DuckDBEngine, TrinoEngine
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.tables import CURVE_OBSERVATION
from tests.support.lake import EUGP_DAYS, RP_DAYS, eod, private_lake
from tests.support.trino_live import DATASETS, Keys, comparable, live_catalog, read_paths, tables_fill

LIVE = os.environ.get("AURUM_TRINO_URL", "")
TENANT = "acme"


@pytest.fixture(scope="module")
def live_lake(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Keys]:
    """The data both engines read, in the catalog and warehouse Trino is configured for."""
    warehouse = os.environ.get("AURUM_TRINO_TEST_WAREHOUSE", "")
    kwargs: dict[str, Any] = {"catalog": live_catalog()}
    if warehouse.startswith("s3://"):
        kwargs["warehouse"] = warehouse
    folder = (
        Path(warehouse) if warehouse and not warehouse.startswith("s3://") else tmp_path_factory.mktemp("t")
    )
    files = [eod("EUGP", d) for d in EUGP_DAYS] + [eod("RP", d) for d in RP_DAYS]
    with django_db_blocker.unblock(), private_lake(folder, files, **kwargs):
        snapshots = tables_fill(TENANT)
        latest = DuckDBEngine().query(queries.curves_latest(CurveFilters(datasets=("vendor:EUGP",), limit=1)))
        row = latest.table.to_pylist()[0]
        current = get_catalog().load_table(CURVE_OBSERVATION).current_snapshot()
        assert current is not None
        yield Keys(
            curve_key=row["curve_key"],
            tenor_label=row["tenor_label"],
            dataset=row["dataset"],
            days=EUGP_DAYS,
            curve_snapshot=current.snapshot_id,
            output_snapshots=snapshots,
        )


PATHS = list(read_paths(Keys("k", "t", "d", EUGP_DAYS, 1, {"r-live-1": 1, "r-live-2": 2}), TENANT))


@pytest.mark.parametrize("path", PATHS)
def test_every_read_path_reads_rows_on_duckdb(live_lake: Keys, path: str) -> None:
    result = DuckDBEngine().query(read_paths(live_lake, TENANT)[path]())

    assert result.table.num_rows > 0
    if "dataset" in result.table.column_names and "curve" in path:
        assert set(result.table.column("dataset").to_pylist()) <= set(DATASETS)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.trino
@pytest.mark.skipif(not LIVE, reason="AURUM_TRINO_URL is not set: no Trino to compare with")
def test_trino_reads_what_duckdb_reads(live_lake: Keys, path: str) -> None:
    query = read_paths(live_lake, TENANT)[path]()

    on_duckdb = DuckDBEngine().query(query).table
    on_trino = TrinoEngine(LIVE).query(query).table

    assert on_trino.column_names == on_duckdb.column_names
    assert comparable(on_trino.to_pylist()) == pytest.approx(comparable(on_duckdb.to_pylist()))
    assert on_duckdb.num_rows > 0


@pytest.mark.trino
@pytest.mark.skipif(not LIVE, reason="AURUM_TRINO_URL is not set: no Trino to compare with")
def test_a_pinned_read_on_trino_reads_the_snapshot_not_the_newer_rows(live_lake: Keys) -> None:
    """``FOR VERSION AS OF``: a read pinned before the second run's commit does not see its rows."""
    from apps.scenarios.output_queries import run_outputs_query

    table = f"t_{TENANT}.scenario_output"
    before = live_lake.output_snapshots["r-live-1"]
    query = run_outputs_query(table=table, scenario_id="s-live", run_id="r-live-2", snapshot_id=before)

    assert TrinoEngine(LIVE).query(query).table.num_rows == 0
    assert DuckDBEngine().query(query).table.num_rows == 0


@pytest.mark.trino
@pytest.mark.skipif(not LIVE, reason="AURUM_TRINO_URL is not set: no Trino to compare with")
def test_the_api_reads_curves_through_trino(live_lake: Keys, settings) -> None:
    """The selectors behind the API on the Trino engine: the same rows as on DuckDB."""
    from apps.curves import selectors

    filters = CurveFilters(datasets=DATASETS, limit=200)
    on_duckdb = selectors.curve_points(filters=filters).table.to_pylist()
    settings.AURUM_QUERY_ENGINE = "trino"
    settings.AURUM_TRINO_URL = LIVE

    on_trino = selectors.curve_points(filters=filters).table.to_pylist()

    assert comparable(on_trino) == pytest.approx(comparable(on_duckdb))
