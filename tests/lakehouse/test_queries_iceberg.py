"""The row filters prune, never decide: through pyiceberg's planning and the DuckDB engine, every read
returns what it returns over the whole table, while opening fewer files where the read allows it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyiceberg.catalog.sql import SqlCatalog

from aurum.lakehouse import catalog as catalog_module
from aurum.lakehouse import engines, latest, tables
from aurum.lakehouse.engines import DuckDBEngine
from aurum.lakehouse.queries import CurveFilters, curves_asof, curves_latest
from tests.support import sample
from tests.support.query_cases import CASES, FILTERS, approx_rows
from tests.support.sample import D12, ENTITLED


@pytest.fixture(scope="module")
def sample_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlCatalog]:
    """A private SQL catalog (SQLite) holding the sample rows in a table built like the real one.

    Built once for the module: every test here only reads it.
    """
    tmp_path = tmp_path_factory.mktemp("sample-catalog")
    private = SqlCatalog("aurum", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/wh")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for module in (engines, tables, catalog_module):
            monkeypatch.setattr(module, "get_catalog", lambda: private)
        table = tables.curve_observation_table()
        for dataset in ("pw", "eugp", "rp"):  # one commit per dataset, as ingestion writes them
            rows = [row for row in sample.ROWS if row["dataset"] == dataset]
            table.append(sample.arrow_table(rows))
            latest.curve_latest_rebuild(dataset)  # reads without an as-of use market.curve_latest
        yield private
    private.engine.dispose()


@pytest.mark.parametrize("filters_name", ["entitled", "iso", "page"])
@pytest.mark.parametrize("case", CASES)
def test_engine_over_iceberg_matches_python_semantics(
    sample_catalog: SqlCatalog, case: str, filters_name: str
) -> None:
    build, expected = CASES[case]
    filters = FILTERS[filters_name]
    query = build(filters)

    result = DuckDBEngine().query(query)

    rows = result.table.to_pylist()
    assert rows == approx_rows(expected(filters))


def test_asof_read_opens_only_its_partitions(sample_catalog: SqlCatalog) -> None:
    every_file = DuckDBEngine().query(curves_latest(CurveFilters(datasets=("pw", "eugp", "rp"))))
    query = curves_asof(CurveFilters(datasets=("pw",)), D12)

    result = DuckDBEngine().query(query)

    assert result.files_scanned == 1 < every_file.files_scanned
    assert {row["dataset"] for row in result.table.to_pylist()} == {"pw"}


def test_entitlement_prunes_files_of_other_datasets(sample_catalog: SqlCatalog) -> None:
    query = curves_latest(CurveFilters(datasets=ENTITLED))

    result = DuckDBEngine().query(query)

    table = sample_catalog.load_table("market.curve_observation")
    rp_files = [task.file.file_path for task in table.scan(row_filter="dataset = 'rp'").plan_files()]
    assert rp_files
    assert result.files_scanned == len(list(table.scan().plan_files())) - len(rp_files)
