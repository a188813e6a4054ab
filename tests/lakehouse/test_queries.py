"""Curve reads: each builder's DuckDB SQL run over the sample rows equals the plain-Python semantics, and its
Trino SQL parses as Trino."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import duckdb
import pytest
import sqlglot

from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery
from tests.support import sample
from tests.support.query_cases import CASES, FILTERS, Row, approx_rows
from tests.support.sample import D10, D11, D12, ENTITLED, K_PJM, K_RP

INJECTION = "x' OR '1'='1"


def run(query: LakehouseQuery) -> list[Row]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("sample", sample.arrow_table())
        return con.sql(query.sql("duckdb", tables={"obs": "sample"})).to_arrow_table().to_pylist()
    finally:
        con.close()


@pytest.mark.parametrize("filters_name", FILTERS)
@pytest.mark.parametrize("case", CASES)
def test_duckdb_rendering_matches_python_semantics(case: str, filters_name: str) -> None:
    build, expected = CASES[case]
    filters = FILTERS[filters_name]

    rows = run(build(filters))

    assert rows == approx_rows(expected(filters))


@pytest.mark.parametrize("case", CASES)
def test_non_entitled_dataset_never_appears(case: str) -> None:
    build, _ = CASES[case]

    rows = run(build(CurveFilters(datasets=ENTITLED)))

    assert rows, "the sample must give every read something to return"
    assert all(row.get("dataset", "pw") in ENTITLED for row in rows)
    assert 999.0 not in {row.get("mid", row.get("mid_b")) for row in rows}
    assert all(row.get("curve_key") != K_RP for row in rows)


@pytest.mark.parametrize("case", CASES)
def test_no_entitlement_reads_nothing(case: str) -> None:
    build, _ = CASES[case]

    assert run(build(CurveFilters(datasets=()))) == []


LITERAL_CASES = [
    (case, field)
    for case in CASES
    for field in ("iso", "location", "datasets", "curve_keys")
    if case != "history" or field == "datasets"  # history takes only datasets, a curve key and a tenor
]


@pytest.mark.parametrize(("case", "field"), LITERAL_CASES)
def test_filter_values_are_literals(case: str, field: str) -> None:
    build, _ = CASES[case]
    value: object = (INJECTION,) if field in ("datasets", "curve_keys") else INJECTION
    filters = dataclasses.replace(CurveFilters(datasets=ENTITLED), **{field: value})  # type: ignore[arg-type]

    assert run(build(filters)) == []


def test_history_tenor_and_key_are_literals() -> None:
    assert run(queries.curve_history(INJECTION, "2025-10", ENTITLED)) == []
    assert run(queries.curve_history(K_PJM, INJECTION, ENTITLED)) == []


def test_latest_picks_newest_vintage_then_newest_load() -> None:
    rows = run(queries.curves_latest(CurveFilters(datasets=ENTITLED, curve_keys=(K_PJM,))))

    by_tenor = {row["tenor_label"]: (row["asof_date"], row["mid"]) for row in rows}
    assert by_tenor == {
        "2025-10": (D12, 43.0),  # the re-ingest, not 42.0; not rp's 999.0 on 09-13
        "2025-11": (D12, 5.0),
        "2025-12": (D11, 50.0),  # missing on 09-12: its latest vintage is older
        "2026-01": (D12, 60.0),
        "Calendar 2026": (D12, 55.0),
    }


def test_as_known_at_takes_each_tenors_latest_vintage_on_or_before() -> None:
    filters = CurveFilters(datasets=ENTITLED, curve_keys=(K_PJM,))

    rows = run(queries.curves_as_known_at(filters, D11))
    before = run(queries.curves_as_known_at(filters, D10))

    assert {row["tenor_label"]: row["mid"] for row in rows} == {
        "2025-10": 40.0,
        "2025-11": 0.0,
        "2025-12": 50.0,
    }
    assert [(row["tenor_label"], row["mid"]) for row in before] == [("2025-10", 39.0)]


def test_diff_fields_and_rules() -> None:
    rows = run(queries.curves_diff(CurveFilters(datasets=ENTITLED), D11, D12))

    assert [row["tenor_label"] for row in rows if row["curve_key"] == K_PJM] == ["2025-10", "2025-11"]
    pjm_oct, pjm_nov, ttf_oct = rows
    assert list(pjm_oct) == list(queries.DIFF_COLUMNS)
    assert (pjm_oct["mid_a"], pjm_oct["mid_b"], pjm_oct["diff_abs"]) == (40.0, 43.0, 3.0)
    assert pjm_oct["diff_pct"] == pytest.approx(0.075)
    assert (pjm_oct["asof_a"], pjm_oct["asof_b"], pjm_oct["contract_month"]) == (D11, D12, date(2025, 10, 1))
    assert (pjm_nov["mid_a"], pjm_nov["diff_abs"], pjm_nov["diff_pct"]) == (0.0, 5.0, None)
    assert (ttf_oct["mid_b"], ttf_oct["diff_abs"], ttf_oct["diff_pct"]) == (None, None, None)


def test_movers_rank_by_absolute_move() -> None:
    rows = run(queries.curves_movers(CurveFilters(datasets=ENTITLED), D11, D12, 5))

    assert [(row["tenor_label"], row["diff_abs"]) for row in rows] == [("2025-11", 5.0), ("2025-10", 3.0)]


def test_strips_reject_unknown_type() -> None:
    with pytest.raises(ValueError):
        queries.strip_filters(CurveFilters(datasets=ENTITLED), "MONTHLY")


# --- Trino rendering ------------------------------------------------------------------------------------

DUCKDB_ONLY = re.compile(
    r"\bQUALIFY\b|::|\bEXCLUDE\b|\bILIKE\b|\bSTRUCT_PACK\b|\bLIST_VALUE\b|read_parquet", re.I
)


@pytest.mark.parametrize("case", CASES)
def test_trino_rendering_parses_and_names_the_catalog_table(case: str) -> None:
    build, _ = CASES[case]
    query = build(CurveFilters(datasets=ENTITLED, iso=INJECTION, limit=10, offset=20))

    sql = query.sql("trino")

    parsed = sqlglot.parse_one(sql, read="trino")
    assert not DUCKDB_ONLY.search(sql)
    tables = {".".join(part.name for part in table.parts) for table in parsed.find_all(sqlglot.exp.Table)}
    assert tables == {f"iceberg.{scan.table}" for scan in query.scans}
    assert tables <= {"iceberg.market.curve_observation", "iceberg.market.curve_latest"}
    assert parsed.sql("trino", identify=True) == sql


def test_render_takes_table_names() -> None:
    query = queries.curves_latest(CurveFilters(datasets=ENTITLED))

    sql = query.sql("trino", tables={"obs": "lake.market.curve_observation"})

    parsed = sqlglot.parse_one(sql, read="trino")
    assert [".".join(part.name for part in table.parts) for table in parsed.find_all(sqlglot.exp.Table)] == [
        "lake.market.curve_observation"
    ]


def test_row_filter_prunes_to_the_vintages_read() -> None:
    query = queries.curves_diff(CurveFilters(datasets=ENTITLED, iso="PJM"), D11, D12)

    text = repr(query.row_filter)

    assert "dataset" in text and "iso" in text and "asof_date" in text
    assert query.scans[0].table == "market.curve_observation" and query.scans[0].alias == "obs"


SQLISH = 'x FROM "obs" y\'; -- ;'


@pytest.mark.parametrize("case", CASES)
def test_a_pinned_read_renders_for_version_as_of_on_trino(case: str) -> None:
    build, _ = CASES[case]

    sql = build(CurveFilters(datasets=ENTITLED)).pinned(8_123_456_789).sql("trino")

    tables = list(sqlglot.parse_one(sql, read="trino").find_all(sqlglot.exp.Table))
    assert tables
    assert {table.args["version"].sql("trino") for table in tables} == {"FOR VERSION AS OF 8123456789"}


@pytest.mark.parametrize("dialect", ["duckdb", "trino"])
@pytest.mark.parametrize("case", [case for case in CASES if case != "history"])
def test_a_sql_ish_value_is_one_literal_in_both_dialects(case: str, dialect: str) -> None:
    build, _ = CASES[case]

    sql = build(CurveFilters(datasets=ENTITLED, location=SQLISH)).sql(dialect)

    parsed = sqlglot.parse_one(sql, read=dialect)
    assert SQLISH in {literal.this for literal in parsed.find_all(sqlglot.exp.Literal) if literal.is_string}
    relations = {table.sql(dialect) for table in parsed.find_all(sqlglot.exp.Table)}
    assert len(relations) == 1
    if dialect == "duckdb":
        assert relations == {
            'READ_PARQUET($obs_files, union_by_name = TRUE, hive_partitioning = FALSE) AS "obs"'
        }
    else:
        assert relations <= {
            f'"iceberg"."market"."{name}" AS "obs"' for name in ("curve_observation", "curve_latest")
        }
