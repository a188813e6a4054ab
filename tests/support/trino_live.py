"""Data and read paths for the live Trino comparison (tests/lakehouse/test_trino_live.py): real fixture
workbooks ingested into a lakehouse Trino can read, plus rows of every other table a read path reads
(scenario outputs, PPA valuations, feeds, quarantine), and every read path built over them.

Where Trino must find the lakehouse: ``AURUM_TRINO_TEST_CATALOG`` is the Iceberg catalog name its
``iceberg.jdbc-catalog.catalog-name`` names (default ``aurum``), ``AURUM_TRINO_TEST_WAREHOUSE`` the warehouse
folder both see at the same path, or an ``s3://`` URI (default: a folder under the test's tmp directory,
which only a Trino on this machine can read). The catalog rows are in the test database
(``test_<name of DATABASE_URL's database>``), which Trino's ``iceberg.jdbc-catalog.connection-url`` must
name. Without ``AURUM_TRINO_URL`` the same data is written under a private catalog name and only DuckDB
reads it (the test that every path reads rows).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from aurum.lakehouse import feed_queries as fq
from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery

LIVE_ENV = ("AURUM_TRINO_URL", "AURUM_TRINO_TEST_CATALOG", "AURUM_TRINO_TEST_WAREHOUSE")
DATASETS = ("vendor:EUGP", "vendor:RP")
BASE_DAY = date(2025, 9, 10)
BASE_TS = datetime(2025, 9, 10, tzinfo=UTC)


def live_catalog() -> str:
    if os.environ.get("AURUM_TRINO_URL"):
        return os.environ.get("AURUM_TRINO_TEST_CATALOG", "aurum")
    return f"test_{uuid.uuid4().hex[:10]}"


def _synthetic(kind: pa.DataType, name: str, i: int) -> Any:
    if pa.types.is_string(kind):
        return f"{name}-{i % 3}"
    if pa.types.is_floating(kind):
        return round(10 + i * 1.25, 2)
    if pa.types.is_integer(kind):
        return i
    if pa.types.is_decimal(kind):
        return Decimal(f"{i}.125000")
    if pa.types.is_boolean(kind):
        return i % 2 == 0
    if pa.types.is_date(kind):
        return BASE_DAY + timedelta(days=i % 3)
    if pa.types.is_timestamp(kind):
        return BASE_TS + timedelta(hours=i)
    if pa.types.is_list(kind):  # one element (a row inside an array: Trino's client gives it as a tuple)
        return [_synthetic(kind.value_type, name, i)]
    if pa.types.is_struct(kind):
        return {field.name: _synthetic(field.type, field.name, i) for field in kind}
    raise TypeError(f"no synthetic value for {name}: {kind}")


def synthetic_rows(schema: pa.Schema, count: int, **fixed: Any) -> pa.Table:
    """``count`` rows of ``schema``: each column a small cycle of values of its type (strings
    ``<column>-<i mod 3>``, numbers, days, hours, one-element lists), except ``fixed`` columns: a value, or a
    function of the row number."""
    columns: dict[str, list[Any]] = {}
    for field in schema:
        given = fixed.get(field.name)
        columns[field.name] = [
            (given(i) if callable(given) else given)
            if given is not None
            else _synthetic(field.type, field.name, i)
            for i in range(count)
        ]
    return pa.table(columns, schema=schema)


def tables_fill(tenant_schema: str) -> dict[str, int]:
    """Rows in every non-curve table a read path reads; returns the snapshot ids the pinned reads use."""
    from apps.ppa.lakehouse import PPA_VALUATION_ARROW, ppa_valuation_table
    from apps.scenarios.engine.rows import SCENARIO_OUTPUT_SCHEMA
    from apps.scenarios.outputs import output_table_ensure
    from aurum.lakehouse.feed_tables import (
        DROUGHT_INDEX_ARROW,
        DROUGHT_USDM_ARROW,
        ISO_LMP_ARROW,
        SERIES_OBSERVATION_ARROW,
        drought_index_table,
        drought_usdm_table,
        iso_lmp_table,
        series_observation_table,
    )
    from aurum.lakehouse.tables import CURVE_QUARANTINE_ARROW, curve_quarantine_table
    from tenants.models import Tenant

    snapshots = {}
    outputs = output_table_ensure(tenant_schema)
    for run_id, shift in (("r-live-1", 0.0), ("r-live-2", 2.5)):
        outputs.append(
            synthetic_rows(
                SCENARIO_OUTPUT_SCHEMA,
                12,
                scenario_id="s-live",
                run_id=run_id,
                curve_key=lambda i: f"k{i % 2}",
                tenor_label=lambda i: f"2025-{10 + i // 4:02d}",
                contract_month=lambda i: date(2025, 10 + i // 4, 1),
                metric=lambda i: ("mid", "p10")[(i // 2) % 2],
                value=lambda i, shift=shift: 40.0 + i + shift,
                asof_date=BASE_DAY,
            )
        )
        current = outputs.current_snapshot()
        assert current is not None
        snapshots[run_id] = current.snapshot_id
    ppa_valuation_table(Tenant(schema_name=tenant_schema)).append(
        synthetic_rows(
            PPA_VALUATION_ARROW,
            8,
            ppa_contract_id=lambda i: f"c-live-{i % 2}",
            valuation_id=lambda i: f"v-{i % 4}",
            scenario_id="s-live",
            seq=lambda i: i,
            metric=lambda i: ("NPV", "irr")[i % 2],
        )
    )
    series_observation_table().append(
        synthetic_rows(
            SERIES_OBSERVATION_ARROW,
            12,
            provider=lambda i: ("EIA", "FRED")[i % 2],
            dataset="live",
            series_id=lambda i: f"S{i % 3}",
            frequency="D",
            value=lambda i: None if i == 5 else 3.5 + i,
        )
    )
    iso_lmp_table().append(
        synthetic_rows(
            ISO_LMP_ARROW,
            48,
            iso_code="CAISO",
            market=lambda i: ("DAM", "RTM")[i % 2],
            location_id=lambda i: f"NODE_{i % 3}",
            interval_start=lambda i: BASE_TS + timedelta(minutes=30 * i),
            price_total=lambda i: float(i % 7) - 2.0,
        )
    )
    drought_usdm_table().append(
        synthetic_rows(DROUGHT_USDM_ARROW, 6, region_type="state", region_id=lambda i: f"S{i}")
    )
    drought_index_table().append(synthetic_rows(DROUGHT_INDEX_ARROW, 6, series_id=lambda i: f"I{i}"))
    curve_quarantine_table().append(
        synthetic_rows(
            CURVE_QUARANTINE_ARROW,
            5,
            dataset="vendor:EUGP",
            asof_date=BASE_DAY,
            ingest_run_id=4242,
            curve_key=lambda i: f"q{i}",
        )
    )
    return snapshots


@dataclass(frozen=True)
class Keys:
    """What the read paths ask for: a real curve, tenor and vintages from the ingested workbooks, and the
    snapshots the pinned reads read."""

    curve_key: str
    tenor_label: str
    dataset: str
    days: tuple[date, ...]
    curve_snapshot: int
    output_snapshots: dict[str, int]


def read_paths(keys: Keys, tenant_schema: str) -> dict[str, Callable[[], LakehouseQuery]]:
    """Every lakehouse read path of the product, built as the product builds it."""
    from apps.ingestion.quarantine_queries import quarantine_rows_query
    from apps.ppa.lakehouse import ppa_contract_ids_query, ppa_contract_rows_query, ppa_rows_query
    from apps.scenarios.output_queries import run_outputs_query, runs_compare_query
    from apps.scenarios.selectors import OUTPUT_COLUMNS

    first, *_, last = keys.days
    every = CurveFilters(datasets=DATASETS, limit=500)
    one = CurveFilters(datasets=DATASETS, curve_keys=(keys.curve_key,))
    outputs, ppa = f"t_{tenant_schema}.scenario_output", f"t_{tenant_schema}.ppa_valuation"
    run_1, run_2 = keys.output_snapshots["r-live-1"], keys.output_snapshots["r-live-2"]
    lmp = fq.LmpFilters(isos=("CAISO",), market="DAM")
    return {
        "curves latest": lambda: queries.curves_latest_materialised(every),
        "curves latest from vintages": lambda: queries.curves_latest(every),
        "curves as of": lambda: queries.curves_asof(every, last),
        "curves as known at": lambda: queries.curves_as_known_at(every, first),
        "curves between": lambda: queries.curves_between(one, first, last),
        "curves on days": lambda: queries.curves_on(one, (first, last)),
        "curve diff": lambda: queries.curves_diff(every, first, last),
        "curve movers": lambda: queries.curves_movers(every, first, last, 10),
        "curve movers by pct": lambda: queries.curves_movers(every, first, last, 10, by="pct"),
        "curve strips": lambda: queries.curves_latest(queries.strip_filters(every, "CALENDAR")),
        "curve history": lambda: queries.curve_history(keys.curve_key, keys.tenor_label, DATASETS),
        "curve point lineage": lambda: queries.curve_point(
            keys.dataset, keys.curve_key, keys.tenor_label, last
        ),
        "curve dimensions": lambda: queries.curve_dimensions(CurveFilters(datasets=DATASETS)),
        "curve dimensions as of": lambda: queries.curve_dimensions(CurveFilters(datasets=DATASETS), last),
        "curves pinned (scenario base curves)": lambda: queries.curves_asof(one, last).pinned(
            keys.curve_snapshot
        ),
        "scenario outputs page": lambda: run_outputs_query(
            table=outputs,
            scenario_id="s-live",
            run_id="r-live-1",
            snapshot_id=run_1,
            columns=OUTPUT_COLUMNS,
            metric="mid",
            limit=4,
            offset=1,
        ),
        "scenario outputs whole run": lambda: run_outputs_query(
            table=outputs, scenario_id="s-live", run_id="r-live-2", snapshot_id=run_2
        ),
        "scenario runs compared": lambda: runs_compare_query(
            table=outputs,
            run=("s-live", "r-live-1", run_1),
            other=("s-live", "r-live-2", run_2),
            metric="mid",
        ),
        "PPA rows": lambda: ppa_rows_query(
            table=ppa, contract_id="c-live-0", valuation_ids=("v-0", "v-2"), metric="npv"
        ),
        "PPA contracts": lambda: ppa_contract_ids_query(table=ppa),
        "PPA contract rows": lambda: ppa_contract_rows_query(table=ppa, contract_id="c-live-1"),
        "series observations": lambda: fq.series_observations(
            fq.SeriesFilters(providers=("EIA", "FRED"), with_value=True), limit=50
        ),
        "series dimensions": lambda: fq.series_dimensions(fq.SeriesFilters(providers=("EIA",))),
        "series counts": lambda: fq.series_counts(("EIA", "FRED"), ("S0", "S1")),
        "LMP recent": lambda: fq.lmp_recent(lmp, hours=6, limit=50),
        "LMP recent negative": lambda: fq.lmp_recent(lmp, hours=24, limit=50, negative_only=True),
        "LMP points": lambda: fq.lmp_points(lmp, limit=20, offset=2),
        "LMP hourly": lambda: fq.lmp_aggregate(fq.LmpFilters(isos=("CAISO",)), bucket="hour", limit=50),
        "LMP daily": lambda: fq.lmp_aggregate(fq.LmpFilters(isos=("CAISO",)), bucket="day", limit=50),
        "drought USDM": lambda: fq.drought_usdm(fq.DroughtFilters(licensed=True), limit=10),
        "drought indices": lambda: fq.drought_indices(fq.DroughtFilters(licensed=True), limit=10),
        "quarantine review": lambda: quarantine_rows_query(dataset="vendor:EUGP", asof=BASE_DAY, run_id=4242),
    }


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as both engines' values compare: instants in UTC without a zone object, floats rounded."""

    def value(item: Any) -> Any:
        if isinstance(item, datetime) and item.tzinfo is not None:
            return item.astimezone(UTC).replace(tzinfo=None)
        if isinstance(item, float):
            return round(item, 9)
        return item

    return [{name: value(item) for name, item in row.items()} for row in rows]
