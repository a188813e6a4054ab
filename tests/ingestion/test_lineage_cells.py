"""``/api/v2/curves/{curve_key}/lineage`` names the workbook cell of a number: the sheet and A1 cell its
mid was read from and those of its `bid / ask` quote. Checked against the real workbook, opened with
openpyxl. A point written by an older Aurum (no cell columns; the tables are evolved on the first read)
answers with null cells, and points ingested after it with theirs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from apps.ingestion.parsers.workbook import parse_workbook
from apps.ingestion.services import ingest_run_create, ingest_run_execute
from aurum.lakehouse import tables
from aurum.lakehouse.catalog import catalog_dispose, get_catalog
from tests.support.lake import eod, private_lake
from tests.support.paths import EOD_DIR
from tests.support.workbook_cells import bid_ask_quote, workbook_cells

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
CELL_COLUMNS = ("source_cell", "bid_ask_sheet", "bid_ask_cell")
DAY_1, DAY_2 = date(2025, 7, 1), date(2025, 7, 2)


def _quoted_points(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(curve_key, tenor_label) -> parsed row, for the Fixed Prices points with a bid / ask quote."""
    rows = parse_workbook(path).rows.to_pylist()
    return {
        (row["curve_key"], row["tenor_label"]): row
        for row in rows
        if row["sheet_name"] == "Fixed Prices - Mid" and row["bid_ask_cell"] and row["contract_month"]
    }


def _lineage(api: Any, auth: dict[str, str], key: tuple[str, str], asof: date) -> dict[str, Any]:
    response = api.get(
        f"/api/v2/curves/{key[0]}/lineage", {"tenor_label": key[1], "asof": asof.isoformat()}, **auth
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_lineage_names_the_cells_that_hold_the_point(world, api):
    created = ingest_run_create(data=EUGP_0912.read_bytes(), file_name=EUGP_0912.name, source="command")
    ingest_run_execute(run_id=created.run.pk)
    key = sorted(_quoted_points(EUGP_0912))[0]

    data = _lineage(api, world.acme.auth("viewer"), key, date(2025, 9, 12))

    cells = workbook_cells(EUGP_0912)
    source, point = data["source"], data["point"]
    assert source["sheet_name"] == "Fixed Prices - Mid"
    assert cells[(source["sheet_name"], source["cell"])] == point["mid"]
    assert source["bid_ask"]["sheet_name"] == "Fixed Prices - BidAsk"
    assert bid_ask_quote(cells[(source["bid_ask"]["sheet_name"], source["bid_ask"]["cell"])]) == (
        point["bid"],
        point["ask"],
    )
    assert not set(CELL_COLUMNS) & set(point)  # the cells are the source's, not the point's


def test_a_point_without_a_quote_has_no_bid_ask_cell(world, api):
    created = ingest_run_create(data=EUGP_0912.read_bytes(), file_name=EUGP_0912.name, source="command")
    ingest_run_execute(run_id=created.run.pk)
    spark = next(
        row
        for row in parse_workbook(EUGP_0912).rows.to_pylist()
        if row["sheet_name"] == "Spark Spread" and row["location"] == "Austrian" and row["block"] == "BASE"
    )

    data = _lineage(api, world.acme.auth("viewer"), (spark["curve_key"], "2025-09"), date(2025, 9, 12))

    assert data["point"]["mid"] == 25.81827660034004
    assert (data["source"]["sheet_name"], data["source"]["cell"], data["source"]["bid_ask"]) == (
        "Spark Spread",
        "C12",
        None,
    )


def _as_written_by_an_older_aurum() -> None:
    """Rewrite the private lake's curve tables as an older Aurum had them: without the cell columns, the
    rows as they were, then forget the catalog (a new process of the new Aurum reads next)."""
    catalog = get_catalog()
    curve_partition = (tables.identity("dataset"), tables.by_day("asof_date", "asof_day"))
    layouts = {
        tables.CURVE_OBSERVATION: (tables.CURVE_OBSERVATION_ARROW, curve_partition),
        tables.CURVE_LATEST: (tables.CURVE_OBSERVATION_ARROW, curve_partition[:1]),
        tables.CURVE_QUARANTINE: (tables.CURVE_QUARANTINE_ARROW, curve_partition),
    }
    for identifier, (schema, partition) in layouts.items():
        rows = catalog.load_table(identifier).scan().to_arrow()
        catalog.drop_table(identifier)
        old = pa.schema([field for field in schema if field.name not in CELL_COLUMNS])
        table = tables.table_ensure(identifier, old, partition=partition, sort=tables.SORT_COLUMNS)
        if rows.num_rows:
            table.append(rows.select(old.names).cast(old))
        assert table.schema().column_names == old.names
    catalog_dispose()


def test_an_older_aurums_point_answers_null_cells_and_new_points_have_theirs(api, committed_world, tmp_path):
    auth = committed_world.acme.auth("viewer")
    key = sorted(_quoted_points(eod("EUGP", DAY_1)).keys() & _quoted_points(eod("EUGP", DAY_2)).keys())[0]
    with private_lake(tmp_path, [eod("EUGP", DAY_1)]) as lake:
        _as_written_by_an_older_aurum()

        old = _lineage(api, auth, key, DAY_1)
        lake.ingest(eod("EUGP", DAY_2))
        new = _lineage(api, auth, key, DAY_2)
        old_again = _lineage(api, auth, key, DAY_1)
        history = api.get(f"/api/v2/curves/{key[0]}/history", {"tenor_label": key[1]}, **auth)
        schema = get_catalog().load_table(tables.CURVE_OBSERVATION).schema()

    assert old["point"]["mid"] == _quoted_points(eod("EUGP", DAY_1))[key]["mid"]
    assert (old["source"]["cell"], old["source"]["bid_ask"]) == (None, None)
    assert old_again["source"] == old["source"]
    expected = _quoted_points(eod("EUGP", DAY_2))[key]
    assert (new["source"]["cell"], new["source"]["bid_ask"]) == (
        expected["source_cell"],
        {"sheet_name": expected["bid_ask_sheet"], "cell": expected["bid_ask_cell"]},
    )
    assert history.status_code == 200, history.content
    assert [row["asof_date"] for row in history.json()["data"]] == ["2025-07-01", "2025-07-02"]
    assert schema.column_names == tables.CURVE_OBSERVATION_ARROW.names
