"""Iceberg tables of the market fundamentals feeds (decision 0029), created on first use.

- ``market.series_observation``: one row per (provider, dataset, series_id, ts) from EIA, FRED, NOAA…,
  partitioned by provider, dataset and month(ts): a series read prunes to its provider's dataset, a date
  range to its months.
- ``market.iso_lmp``: one row per (iso_code, market, location_id, interval_start), partitioned by iso_code
  and day(interval_start): the v1 LMP reads are per ISO and a few days.
- ``market.drought_usdm``: the U.S. Drought Monitor's weekly area fractions per region.
- ``market.drought_index``: drought indices per region (no source is fetched yet; /v1/drought/indices
  reads it).

Every row carries its lineage: the fetch run that wrote it, the request URL (without secrets), the sha256 of
the response body it was parsed from and when it was fetched. A fetch of a window replaces exactly that
window's rows with one Iceberg overwrite (``window_filter``), never appends a duplicate.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any, cast

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import (
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    LessThan,
)
from pyiceberg.table import Table
from pyiceberg.transforms import MonthTransform

from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.tables import MARKET, PartitionField, by_day, identity, table_ensure

SERIES_OBSERVATION = f"{MARKET}.series_observation"
ISO_LMP = f"{MARKET}.iso_lmp"
DROUGHT_USDM = f"{MARKET}.drought_usdm"
DROUGHT_INDEX = f"{MARKET}.drought_index"

UTC_TS = pa.timestamp("us", tz="UTC")
LINEAGE_FIELDS = [
    pa.field("fetch_run_id", pa.int64()),
    pa.field("request_url", pa.string()),
    pa.field("response_sha256", pa.string()),
    pa.field("fetched_at", UTC_TS),
]
SERIES_OBSERVATION_ARROW = pa.schema(
    [
        pa.field("provider", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("period", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("value_raw", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("canonical_unit", pa.string()),
        pa.field("canonical_currency", pa.string()),
        pa.field("frequency", pa.string()),
        pa.field("area", pa.string()),
        pa.field("sector", pa.string()),
        pa.field("status", pa.string()),
        pa.field("metadata", pa.string()),  # JSON object of string values
        *LINEAGE_FIELDS,
    ]
)
ISO_LMP_ARROW = pa.schema(
    [
        pa.field("iso_code", pa.string(), nullable=False),
        pa.field("market", pa.string(), nullable=False),
        pa.field("location_id", pa.string(), nullable=False),
        pa.field("location_name", pa.string()),
        pa.field("location_type", pa.string()),
        pa.field("zone", pa.string()),
        pa.field("hub", pa.string()),
        pa.field("timezone", pa.string()),
        pa.field("delivery_date", pa.date32()),
        pa.field("interval_start", UTC_TS, nullable=False),
        pa.field("interval_end", UTC_TS),
        pa.field("interval_minutes", pa.int32()),
        pa.field("price_total", pa.float64(), nullable=False),
        pa.field("price_energy", pa.float64()),
        pa.field("price_congestion", pa.float64()),
        pa.field("price_loss", pa.float64()),
        pa.field("currency", pa.string()),
        pa.field("uom", pa.string()),
        pa.field("record_hash", pa.string()),
        *LINEAGE_FIELDS,
    ]
)
DROUGHT_USDM_ARROW = pa.schema(
    [
        pa.field("region_type", pa.string(), nullable=False),
        pa.field("region_id", pa.string(), nullable=False),
        pa.field("region_name", pa.string()),
        pa.field("valid_date", pa.date32(), nullable=False),
        pa.field("d0_frac", pa.float64()),
        pa.field("d1_frac", pa.float64()),
        pa.field("d2_frac", pa.float64()),
        pa.field("d3_frac", pa.float64()),
        pa.field("d4_frac", pa.float64()),
        pa.field("source_url", pa.string()),
        *LINEAGE_FIELDS,
    ]
)
DROUGHT_INDEX_ARROW = pa.schema(
    [
        pa.field("series_id", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("index", pa.string(), nullable=False),
        pa.field("timescale", pa.string(), nullable=False),
        pa.field("region_type", pa.string(), nullable=False),
        pa.field("region_id", pa.string(), nullable=False),
        pa.field("region_name", pa.string()),
        pa.field("valid_date", pa.date32(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("poc", pa.string()),
        pa.field("source_url", pa.string()),
        *LINEAGE_FIELDS,
    ]
)


def by_month(column: str, name: str) -> PartitionField:
    return PartitionField(column, MonthTransform(), name)


def series_observation_table() -> Table:
    return table_ensure(
        SERIES_OBSERVATION,
        SERIES_OBSERVATION_ARROW,
        partition=(identity("provider"), identity("dataset"), by_month("ts", "ts_month")),
        sort=("series_id", "ts"),
    )


def iso_lmp_table() -> Table:
    return table_ensure(
        ISO_LMP,
        ISO_LMP_ARROW,
        partition=(identity("iso_code"), by_day("interval_start", "interval_day")),
        sort=("location_id", "interval_start"),
    )


def drought_usdm_table() -> Table:
    return table_ensure(
        DROUGHT_USDM,
        DROUGHT_USDM_ARROW,
        partition=(identity("region_type"), by_month("valid_date", "valid_month")),
        sort=("region_id", "valid_date"),
    )


def drought_index_table() -> Table:
    return table_ensure(
        DROUGHT_INDEX,
        DROUGHT_INDEX_ARROW,
        partition=(identity("dataset"), by_month("valid_date", "valid_month")),
        sort=("series_id", "valid_date"),
    )


def feed_tables_ensure() -> None:
    """Create (or evolve) every feed table: reads of a table never written must still find it."""
    series_observation_table()
    iso_lmp_table()
    drought_usdm_table()
    drought_index_table()


def _eq(name: str, value: str) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, EqualTo)(name, value))


def window_filter(
    keys: dict[str, str], column: str, start: datetime | str, end: datetime | str
) -> BooleanExpression:
    """The rows of one fetch window: ``keys`` equal (provider and dataset, or iso_code and market) and
    ``start <= column < end``; what a re-fetch of the window replaces."""
    low = start.isoformat() if isinstance(start, datetime) else start
    high = end.isoformat() if isinstance(end, datetime) else end
    parts: list[BooleanExpression] = [_eq(name, value) for name, value in keys.items()]
    parts.append(cast(BooleanExpression, cast(Any, GreaterThanOrEqual)(column, low)))
    parts.append(cast(BooleanExpression, cast(Any, LessThan)(column, high)))
    result = parts[0]
    for part in parts[1:]:
        result = And(result, part)
    return result


_ensured: weakref.WeakSet[SqlCatalog] = weakref.WeakSet()


def feed_tables_ready() -> None:
    """``feed_tables_ensure`` once per catalog per process (reads call it before their first query)."""
    catalog = get_catalog()
    if catalog in _ensured:
        return
    feed_tables_ensure()
    _ensured.add(catalog)
