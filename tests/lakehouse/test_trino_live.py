"""The same curve reads against a live Trino (``AURUM_TRINO_URL``, e.g. ``http://user@trino:8080``) reading
the Iceberg catalog through ``deploy/trino/catalog/iceberg.properties``. Skipped unless that URL is set.

The tables must hold data ingested by Aurum; the tests check that every rendering runs and that
entitlement holds, not particular prices.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any
from urllib.parse import urlparse

import pytest

from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import TRINO_CATALOG, LakehouseQuery

pytestmark = [
    pytest.mark.trino,
    pytest.mark.skipif(not os.environ.get("AURUM_TRINO_URL"), reason="AURUM_TRINO_URL is not set"),
]

DATASETS = tuple(os.environ.get("AURUM_TRINO_TEST_DATASETS", "pw").split(","))
ASOF_A = date.fromisoformat(os.environ.get("AURUM_TRINO_TEST_ASOF_A", "2025-09-11"))
ASOF_B = date.fromisoformat(os.environ.get("AURUM_TRINO_TEST_ASOF_B", "2025-09-12"))


def trino_rows(query: LakehouseQuery) -> list[dict[str, Any]]:
    return trino_sql_rows(query.sql("trino"))


def trino_sql_rows(sql: str) -> list[dict[str, Any]]:
    import trino

    url = urlparse(os.environ["AURUM_TRINO_URL"])
    connection = trino.dbapi.connect(
        host=url.hostname,
        port=url.port or (443 if url.scheme == "https" else 8080),
        user=url.username or "aurum",
        http_scheme=url.scheme or "http",
        catalog=TRINO_CATALOG,
    )
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


READS = {
    "latest": lambda f: queries.curves_latest(f),
    "asof": lambda f: queries.curves_asof(f, ASOF_B),
    "as_known_at": lambda f: queries.curves_as_known_at(f, ASOF_A),
    "diff": lambda f: queries.curves_diff(f, ASOF_A, ASOF_B),
    "strips": lambda f: queries.curves_latest(queries.strip_filters(f, "CALENDAR")),
    "movers": lambda f: queries.curves_movers(f, ASOF_A, ASOF_B, 10),
}


@pytest.mark.parametrize("read", READS)
def test_read_runs_on_trino_within_entitlement(read: str) -> None:
    rows = trino_rows(READS[read](CurveFilters(datasets=DATASETS, limit=50)))

    assert all(row.get("dataset", DATASETS[0]) in DATASETS for row in rows)


def test_latest_is_one_row_per_tenor() -> None:
    rows = trino_rows(queries.curves_latest(CurveFilters(datasets=DATASETS, limit=500)))

    keys = [(row["curve_key"], row["tenor_label"]) for row in rows]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys)


def test_nothing_without_entitlement() -> None:
    assert trino_rows(queries.curves_latest(CurveFilters(datasets=(), limit=10))) == []


def test_the_engine_behind_the_api_reads_latest_on_trino(settings) -> None:
    """The read path the API uses (selectors → TrinoEngine → iceberg.market.curve_latest)."""
    from apps.curves import selectors

    settings.AURUM_QUERY_ENGINE = "trino"
    settings.AURUM_TRINO_URL = os.environ["AURUM_TRINO_URL"]
    result = selectors.curve_points(filters=CurveFilters(datasets=DATASETS, limit=100))

    keys = [(row["curve_key"], row["tenor_label"]) for row in result.table.to_pylist()]
    assert len(keys) == len(set(keys))


def test_a_read_pinned_to_the_current_snapshot_reads_what_the_unpinned_read_reads() -> None:
    """``FOR VERSION AS OF`` on Trino (scenario runs read their curves at a recorded snapshot)."""
    latest = trino_sql_rows(
        'SELECT snapshot_id FROM iceberg.market."curve_latest$snapshots" ORDER BY committed_at DESC LIMIT 1'
    )
    query = queries.curves_latest_materialised(CurveFilters(datasets=DATASETS, limit=200))

    assert trino_rows(query.pinned(int(latest[0]["snapshot_id"]))) == trino_rows(query)
