"""Every lakehouse read path rendered for Trino, checked against SQL written by hand from Trino's documented
syntax (https://trino.io/docs/current/sql/select.html, .../language/types.html, .../connector/iceberg.html
"Time travel queries"), not from the renderer's output:

- tables are ``catalog.schema.table`` with the catalog ``iceberg`` (deploy/trino/catalog-*/),
  every identifier double-quoted (quoted identifiers are exact names; Trino folds them to lower case, and
  every Aurum name is lower case already);
- a pinned scan reads ``<table> FOR VERSION AS OF <snapshot id> AS <alias>``: the query period follows the
  table name, the alias comes after it (``aliasedRelation: relationPrimary [AS] identifier``);
- values are literals, never bound parameters: strings in single quotes with a quote doubled, dates
  ``CAST('yyyy-mm-dd' AS DATE)``, instants ``CAST('... +00:00' AS TIMESTAMP WITH TIME ZONE)``;
- paging is ``OFFSET n LIMIT m`` in that order (Trino's grammar puts OFFSET before LIMIT; ``LIMIT m OFFSET
  n`` is a syntax error there); NULLS LAST is Trino's default in both directions, so it is not spelt out.

Where the renderer's spelling differed from the first hand-written one and both are valid Trino with the
same meaning, the expectation was changed and says so: a ratio's dividend is ``CAST(... AS DOUBLE)`` (sqlglot
keeps true division, since ``/`` of two integers truncates in Trino; the operands are DOUBLE already), a
subtraction inside a comparison is parenthesised, and ``ts AT TIME ZONE 'UTC'`` is spelt with Trino's
``at_timezone(ts, zone)`` function, the unit of ``date_trunc`` upper case (Trino lower-cases it).

Column lists are the tables' own schemas (their Arrow definitions), quoted and joined here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from apps.ingestion.quarantine_queries import QUARANTINE_COLUMNS, quarantine_rows_query
from apps.ppa.lakehouse import (
    PPA_VALUATION_ARROW,
    ppa_contract_ids_query,
    ppa_contract_rows_query,
    ppa_rows_query,
)
from apps.scenarios.output_queries import run_outputs_query, runs_compare_query
from apps.scenarios.selectors import OUTPUT_COLUMNS
from aurum.lakehouse import feed_queries as fq
from aurum.lakehouse import queries
from aurum.lakehouse.engines import TrinoEngine
from aurum.lakehouse.feed_tables import (
    DROUGHT_INDEX_ARROW,
    DROUGHT_USDM_ARROW,
    ISO_LMP_ARROW,
    SERIES_OBSERVATION_ARROW,
)
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery
from aurum.lakehouse.tables import CURVE_OBSERVATION_ARROW
from tests.support.trino_server import answer_of, trino_stand_in

D10, D11, D12 = date(2025, 9, 10), date(2025, 9, 11), date(2025, 9, 12)
SNAPSHOT = 8_123_456_789_012_345_678  # a real snapshot id's size: a BIGINT


def q(names: tuple[str, ...] | list[str], table: str | None = None) -> str:
    prefix = f'"{table}".' if table else ""
    return ", ".join(f'{prefix}"{name}"' for name in names)


CURVE = q(CURVE_OBSERVATION_ARROW.names)
OBSERVATION = '"iceberg"."market"."curve_observation" AS "obs"'
LATEST = '"iceberg"."market"."curve_latest" AS "obs"'
KEYSET = '"curve_key" ASC, "tenor_label" ASC, "contract_month" ASC, "asof_date" ASC, "price_type" ASC'
RANK_ORDER = '"asof_date" DESC, "_ingest_ts" DESC, "dataset" ASC, "price_type" ASC'
# Entitlement, and a dimension filter whose value holds a quote: doubled inside the literal.
FILTERS = CurveFilters(datasets=("vendor:EUGP", "vendor:RP"), iso="PJM'x", limit=10, offset=20)
ENTITLED = "\"dataset\" IN ('vendor:EUGP', 'vendor:RP') AND \"iso\" = 'PJM''x'"


def day(value: date) -> str:
    return f"CAST('{value.isoformat()}' AS DATE)"


def ranked(where: str, partition: str = '"curve_key", "tenor_label"', table: str = OBSERVATION) -> str:
    """One row per partition: the newest vintage, then the newest load (the ROW_NUMBER window)."""
    return (
        f'SELECT {CURVE}, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {RANK_ORDER}) AS "_rank" '
        f"FROM {table} WHERE {where}"
    )


def one_per_tenor(where: str) -> str:
    return f'SELECT {CURVE} FROM ({ranked(where)}) AS "ranked" WHERE "_rank" = 1'


DIFF_SELECT = (
    'SELECT "a"."curve_key", "a"."tenor_label", "a"."tenor_type", "a"."contract_month", '
    '"a"."asof_date" AS "asof_a", "a"."mid" AS "mid_a", "b"."asof_date" AS "asof_b", "b"."mid" AS "mid_b", '
    '"b"."mid" - "a"."mid" AS "diff_abs", CAST(("b"."mid" - "a"."mid") AS DOUBLE) / NULLIF("a"."mid", 0) '
    'AS "diff_pct" '
    f'FROM ({one_per_tenor(f"{ENTITLED} AND {chr(34)}asof_date{chr(34)} = {day(D11)}")}) AS "a" '
    f'INNER JOIN ({one_per_tenor(f"{ENTITLED} AND {chr(34)}asof_date{chr(34)} = {day(D12)}")}) AS "b" '
    'ON "a"."curve_key" = "b"."curve_key" AND "a"."tenor_label" = "b"."tenor_label"'
)


def dimension(name: str, table: str) -> str:
    return (
        f'SELECT \'{name}\' AS "dimension", "{name}" AS "value", COUNT(DISTINCT "curve_key") AS "curves" '
        f'FROM {table} WHERE "dataset" IN (\'vendor:EUGP\') AND NOT "{name}" IS NULL AND "{name}" <> \'\' '
        f'GROUP BY "{name}"'
    )


CURVE_DIMENSIONS = " UNION ALL ".join(
    dimension(name, LATEST)
    for name in ("asset_class", "iso", "region", "location", "market", "product", "block", "tenor_type")
    + ("commodity",)
)

OUTPUTS = '"iceberg"."t_acme"."scenario_output"'
PPA = '"iceberg"."t_acme"."ppa_valuation" AS "ppa"'
SERIES = '"iceberg"."market"."series_observation" AS "obs"'
LMP = '"iceberg"."market"."iso_lmp" AS "obs"'
JAN = "CAST('2025-01-01 00:00:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)"
FEB = "CAST('2025-02-01 12:30:00.000000+00:00' AS TIMESTAMP WITH TIME ZONE)"


def series_dimension(name: str) -> str:
    return (
        f'SELECT DISTINCT \'{name}\' AS "dimension", "{name}" AS "value" FROM {SERIES} '
        f'WHERE "provider" IN (\'EIA\') AND NOT "{name}" IS NULL AND "{name}" <> \'\''
    )


LMP_LICENSED = "\"iso_code\" IN ('CAISO') AND \"market\" = 'DAM'"
AGGREGATES = (
    'AVG("price_total") AS "price_avg", MIN("price_total") AS "price_min", '
    'MAX("price_total") AS "price_max", '
    'STDDEV_SAMP("price_total") AS "price_stddev", COUNT(*) AS "sample_count"'
)

# read path -> (the builder as the product calls it, the Trino SQL written by hand)
PATHS: dict[str, tuple[Callable[[], LakehouseQuery], str]] = {
    "curves latest (materialised table, the API's latest)": (
        lambda: queries.curves_latest_materialised(FILTERS),
        f"SELECT {CURVE} FROM {LATEST} WHERE {ENTITLED} ORDER BY {KEYSET} OFFSET 20 LIMIT 10",
    ),
    "curves latest from the vintages": (
        lambda: queries.curves_latest(FILTERS),
        f"{one_per_tenor(ENTITLED)} ORDER BY {KEYSET} OFFSET 20 LIMIT 10",
    ),
    "curves as of a vintage": (
        lambda: queries.curves_asof(FILTERS, D12),
        f"{one_per_tenor(f'{ENTITLED} AND {chr(34)}asof_date{chr(34)} = {day(D12)}')} "
        f"ORDER BY {KEYSET} OFFSET 20 LIMIT 10",
    ),
    "curves as known at a day": (
        lambda: queries.curves_as_known_at(FILTERS, D11),
        f"{one_per_tenor(f'{ENTITLED} AND {chr(34)}asof_date{chr(34)} <= {day(D11)}')} "
        f"ORDER BY {KEYSET} OFFSET 20 LIMIT 10",
    ),
    "curves history range (exports with start and end)": (
        lambda: queries.curves_between(FILTERS, D10, D12),
        f"SELECT {CURVE} FROM ("
        + ranked(
            f'{ENTITLED} AND "asof_date" >= {day(D10)} AND "asof_date" <= {day(D12)}',
            partition='"curve_key", "tenor_label", "asof_date"',
        )
        + ') AS "ranked" WHERE "_rank" = 1 '
        'ORDER BY "curve_key" ASC, "tenor_label" ASC, "asof_date" ASC, "price_type" ASC OFFSET 20 LIMIT 10',
    ),
    "curve vintages on given days (page and overlay)": (
        lambda: queries.curves_on(FILTERS, (D12, D10)),
        f"SELECT {CURVE} FROM ("
        + ranked(
            f'{ENTITLED} AND "asof_date" IN ({day(D10)}, {day(D12)})',
            partition='"curve_key", "tenor_label", "asof_date"',
        )
        + ') AS "ranked" WHERE "_rank" = 1 '
        'ORDER BY "curve_key" ASC, "tenor_label" ASC, "asof_date" ASC, "price_type" ASC OFFSET 20 LIMIT 10',
    ),
    "curve diff": (
        lambda: queries.curves_diff(FILTERS, D11, D12),
        f'{DIFF_SELECT} ORDER BY "curve_key" ASC, "tenor_label" ASC, "contract_month" ASC OFFSET 20 LIMIT 10',
    ),
    "curve movers": (
        lambda: queries.curves_movers(FILTERS, D11, D12, 5),
        f'SELECT {q(queries.DIFF_COLUMNS)} FROM ({DIFF_SELECT}) AS "moves" WHERE NOT "diff_abs" IS NULL '
        'ORDER BY ABS("diff_abs") DESC, "curve_key" ASC, "tenor_label" ASC, "contract_month" ASC LIMIT 5',
    ),
    "curve tenor history": (
        lambda: queries.curve_history("pw.k1", "2025-10", ("vendor:EUGP",)),
        f"SELECT {q(queries.HISTORY_COLUMNS)} FROM ("
        + ranked(
            "\"dataset\" IN ('vendor:EUGP') AND \"curve_key\" IN ('pw.k1') AND \"tenor_label\" = '2025-10'",
            partition='"asof_date"',
        )
        + ') AS "ranked" WHERE "_rank" = 1 ORDER BY "asof_date" ASC',
    ),
    "curve point lineage (cell references)": (
        lambda: queries.curve_point("vendor:EUGP", "pw.k1", "2025-10", D12),
        f"SELECT {q(queries.POINT_COLUMNS)} FROM {OBSERVATION} "
        "WHERE \"dataset\" = 'vendor:EUGP' AND \"curve_key\" = 'pw.k1' AND \"tenor_label\" = '2025-10' "
        f'AND "asof_date" = {day(D12)} ORDER BY "_ingest_ts" DESC, "price_type" ASC',
    ),
    "curve dimensions": (
        lambda: queries.curve_dimensions(CurveFilters(datasets=("vendor:EUGP",))),
        f'SELECT "dimension", "value", "curves" FROM ({CURVE_DIMENSIONS}) AS "dims" '
        'ORDER BY "dimension" ASC, "value" ASC',
    ),
    "scenario base curves pinned to a snapshot": (
        lambda: queries.curves_asof(
            CurveFilters(datasets=("vendor:EUGP",), curve_keys=("pw.k1",)), D12
        ).pinned(SNAPSHOT),
        "SELECT "
        + CURVE
        + " FROM ("
        + ranked(
            f'"dataset" IN (\'vendor:EUGP\') AND "curve_key" IN (\'pw.k1\') AND "asof_date" = {day(D12)}',
            table=f'"iceberg"."market"."curve_observation" FOR VERSION AS OF {SNAPSHOT} AS "obs"',
        )
        + f') AS "ranked" WHERE "_rank" = 1 ORDER BY {KEYSET}',
    ),
    "scenario outputs page": (
        lambda: run_outputs_query(
            table="t_acme.scenario_output",
            scenario_id="s-1",
            run_id="r-1",
            snapshot_id=77,
            columns=OUTPUT_COLUMNS,
            metric="mid",
            curve_key="pw.k1",
            limit=10,
            offset=20,
        ),
        f'SELECT {q(OUTPUT_COLUMNS)} FROM {OUTPUTS} FOR VERSION AS OF 77 AS "so" '
        "WHERE \"scenario_id\" = 's-1' AND \"run_id\" = 'r-1' AND \"metric\" = 'mid' "
        "AND \"curve_key\" = 'pw.k1' "
        'ORDER BY "curve_key" ASC, "tenor_label" ASC, "contract_month" ASC, "metric" ASC OFFSET 20 LIMIT 10',
    ),
    "scenario outputs whole run (CSV/Parquet file, tenant export)": (
        lambda: run_outputs_query(
            table="t_acme.scenario_output", scenario_id="s-1", run_id="r-1", snapshot_id=78
        ),
        f'SELECT * FROM {OUTPUTS} FOR VERSION AS OF 78 AS "so" '
        "WHERE \"scenario_id\" = 's-1' AND \"run_id\" = 'r-1' "
        'ORDER BY "curve_key" ASC, "tenor_label" ASC, "contract_month" ASC, "metric" ASC',
    ),
    "scenario runs compared": (
        lambda: runs_compare_query(
            table="t_acme.scenario_output", run=("s-1", "r-1", 5), other=("s-2", "r-2", 6), metric="p90"
        ),
        'SELECT "a"."curve_key", "a"."tenor_label", "a"."tenor_type", "a"."contract_month", "a"."metric", '
        '"a"."value", "b"."value" AS "other_value", "b"."value" - "a"."value" AS "delta", '
        'CAST(("b"."value" - "a"."value") AS DOUBLE) / NULLIF("a"."value", 0) AS "delta_pct" '
        f'FROM {OUTPUTS} FOR VERSION AS OF 5 AS "a" INNER JOIN {OUTPUTS} FOR VERSION AS OF 6 AS "b" '
        'ON "a"."curve_key" = "b"."curve_key" AND "a"."tenor_label" = "b"."tenor_label" '
        'AND "a"."metric" = "b"."metric" '
        'WHERE "a"."run_id" = \'r-1\' AND "b"."run_id" = \'r-2\' AND "a"."metric" = \'p90\' '
        'ORDER BY "a"."curve_key" ASC, "a"."tenor_label" ASC, "a"."contract_month" ASC',
    ),
    "PPA valuation rows": (
        lambda: ppa_rows_query(
            table="t_acme.ppa_valuation",
            contract_id="c-1",
            valuation_ids=("v-1", "v-2"),
            scenario_id="s-1",
            metric="NPV",
            limit=5,
        ),
        f"SELECT {q(PPA_VALUATION_ARROW.names)} FROM {PPA} "
        "WHERE \"ppa_contract_id\" = 'c-1' AND \"valuation_id\" IN ('v-1', 'v-2') "
        "AND \"scenario_id\" = 's-1' "
        "AND LOWER(\"metric\") = LOWER('NPV') "
        'ORDER BY "_ingest_ts" DESC, "valuation_id" ASC, "seq" ASC LIMIT 5',
    ),
    "PPA contracts with rows (tenant export)": (
        lambda: ppa_contract_ids_query(table="t_acme.ppa_valuation"),
        f'SELECT DISTINCT "ppa_contract_id" FROM {PPA} ORDER BY "ppa_contract_id" ASC',
    ),
    "PPA rows of a contract (tenant export)": (
        lambda: ppa_contract_rows_query(table="t_acme.ppa_valuation", contract_id="c-1"),
        f"SELECT {q(PPA_VALUATION_ARROW.names)} FROM {PPA} WHERE \"ppa_contract_id\" = 'c-1' "
        'ORDER BY "valuation_id" ASC, "seq" ASC',
    ),
    "feed series observations": (
        lambda: fq.series_observations(
            fq.SeriesFilters(
                providers=("EIA", "FRED"),
                series_id="DGS10",
                frequency="D",
                start=datetime(2025, 1, 1, tzinfo=UTC),
                end=datetime(2025, 2, 1, 12, 30, tzinfo=UTC),
                with_value=True,
            ),
            limit=100,
            offset=200,
        ),
        f"SELECT {q(SERIES_OBSERVATION_ARROW.names)} FROM {SERIES} "
        "WHERE \"provider\" IN ('EIA', 'FRED') AND NOT \"value\" IS NULL AND \"series_id\" = 'DGS10' "
        f'AND "frequency" = \'D\' AND "ts" >= {JAN} AND "ts" <= {FEB} '
        'ORDER BY "series_id" ASC, "ts" ASC, "provider" ASC OFFSET 200 LIMIT 100',
    ),
    "feed series dimensions": (
        lambda: fq.series_dimensions(fq.SeriesFilters(providers=("EIA",))),
        'SELECT "dimension", "value" FROM ('
        + " UNION ALL ".join(series_dimension(name) for name in fq.SERIES_DIMENSIONS)
        + ') AS "dims" ORDER BY "dimension" ASC, "value" ASC',
    ),
    "feed series counts": (
        lambda: fq.series_counts(("EIA",), ("S1", "S2")),
        'SELECT "provider", "series_id", COUNT(*) AS "observations", MAX("fetched_at") AS "last_fetched" '
        f"FROM {SERIES} WHERE \"provider\" IN ('EIA') AND \"series_id\" IN ('S1', 'S2') "
        'GROUP BY "provider", "series_id"',
    ),
    "ISO LMP last hours, negative prices": (
        lambda: fq.lmp_recent(
            fq.LmpFilters(isos=("CAISO",), market="DAM"), hours=24, limit=50, negative_only=True
        ),
        f"SELECT {q(ISO_LMP_ARROW.names)} FROM {LMP} WHERE {LMP_LICENSED} "
        f'AND "interval_start" >= ((SELECT MAX("interval_start") FROM {LMP} WHERE {LMP_LICENSED}) '
        "- INTERVAL '24' HOUR) "
        'AND "price_total" < 0 '
        'ORDER BY "interval_start" DESC, "iso_code" ASC, "market" ASC, "location_id" ASC LIMIT 50',
    ),
    "ISO LMP points": (
        lambda: fq.lmp_points(
            fq.LmpFilters(
                isos=("CAISO", "MISO"),
                iso_code="CAISO",
                location_id="TH_NP15",
                start=datetime(2025, 1, 1, tzinfo=UTC),
            ),
            limit=10,
        ),
        f"SELECT {q(ISO_LMP_ARROW.names)} FROM {LMP} "
        "WHERE \"iso_code\" IN ('CAISO', 'MISO') AND \"iso_code\" = 'CAISO' AND \"location_id\" = 'TH_NP15' "
        f'AND "interval_start" >= {JAN} '
        'ORDER BY "interval_start" ASC, "iso_code" ASC, "market" ASC, "location_id" ASC LIMIT 10',
    ),
    "ISO LMP hourly aggregate": (
        lambda: fq.lmp_aggregate(fq.LmpFilters(isos=("CAISO",)), bucket="hour", limit=10),
        f"SELECT {q(fq.AGGREGATE_COLUMNS)} FROM ("
        'SELECT "iso_code", "market", '
        "CAST(DATE_TRUNC('HOUR', AT_TIMEZONE(\"interval_start\", 'UTC')) AS TIMESTAMP) "
        'AS "interval_start", '
        '"location_id", "currency", "uom", '
        f"{AGGREGATES} FROM {LMP} WHERE \"iso_code\" IN ('CAISO') "
        'GROUP BY "iso_code", "market", "location_id", "currency", "uom", 3) AS "buckets" '
        'ORDER BY "interval_start" ASC, "iso_code" ASC, "market" ASC, "location_id" ASC LIMIT 10',
    ),
    "drought USDM": (
        lambda: fq.drought_usdm(fq.DroughtFilters(licensed=True, region_type="state", start=D10), limit=10),
        f'SELECT {q(DROUGHT_USDM_ARROW.names)} FROM "iceberg"."market"."drought_usdm" AS "obs" '
        f'WHERE "region_type" = \'state\' AND "valid_date" >= {day(D10)} '
        'ORDER BY "valid_date" DESC, "region_type" ASC, "region_id" ASC LIMIT 10',
    ),
    "drought indices, unlicensed": (
        lambda: fq.drought_indices(fq.DroughtFilters(licensed=False), limit=10),
        f'SELECT {q(DROUGHT_INDEX_ARROW.names)} FROM "iceberg"."market"."drought_index" AS "obs" '
        'WHERE FALSE ORDER BY "valid_date" DESC, "series_id" ASC LIMIT 10',
    ),
    "quarantine review": (
        lambda: quarantine_rows_query(dataset="vendor:EUGP", asof=D12, run_id=42),
        f'SELECT {q(QUARANTINE_COLUMNS)} FROM "iceberg"."market"."curve_observation_quarantine" AS "q" '
        f'WHERE "dataset" = \'vendor:EUGP\' AND "asof_date" = {day(D12)} AND "ingest_run_id" = 42 '
        'ORDER BY "sheet_name" ASC, "curve_key" ASC, "tenor_label" ASC, "contract_month" ASC, '
        '"price_type" ASC',
    ),
}


@pytest.mark.parametrize("path", PATHS)
def test_each_read_path_renders_the_trino_sql_written_by_hand(path: str) -> None:
    build, expected = PATHS[path]

    assert build().sql("trino") == re.sub(r"\s+", " ", expected).strip()


@pytest.mark.parametrize("path", PATHS)
def test_no_read_path_leaves_a_placeholder_or_a_duckdb_table_function_for_trino(path: str) -> None:
    """The statement Trino receives carries literals: nothing to bind (``?``, ``$name``), no
    ``read_parquet``."""
    sql = PATHS[path][0]().sql("trino")

    without_literals = re.sub(r"'(?:[^']|'')*'", "''", sql)
    assert not re.search(r"\?|\$\w|read_parquet|getvariable", without_literals, re.I)


@pytest.mark.parametrize("path", PATHS)
def test_the_trino_engine_sends_that_sql_and_reads_the_paged_answer(path: str) -> None:
    """Through the real ``trino`` client against a stand-in coordinator (tests/support/trino_server.py): the
    statement posted is the hand-written SQL, and the answer, queued then paged over ``nextUri``, comes back
    as the rows Trino sent, typed."""
    build, expected = PATHS[path]
    rows = [
        {"name": "a", "n": 1, "day": D10, "x": 1.5},
        {"name": "b'", "n": 2, "day": D11, "x": None},
        {"name": "c", "n": 3, "day": D12, "x": -2.0},
    ]
    with trino_stand_in() as stand_in:
        stand_in.answer = answer_of(rows, page_rows=2)
        result = TrinoEngine(stand_in.url).query(build())

    assert stand_in.sql == re.sub(r"\s+", " ", expected).strip()
    assert [method for method, _ in stand_in.requests] == ["POST", "GET", "GET"]
    assert result.table.to_pylist() == rows
