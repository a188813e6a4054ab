"""The Trino engine against a stand-in for the cluster (no Trino is reachable here; the live tests in
test_trino_live.py run when AURUM_TRINO_URL is set): what SQL it sends, where, and what it returns."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import sqlglot

from apps.curves import selectors
from aurum.lakehouse.engines import DuckDBEngine, ScanSpec, TrinoEngine, get_engine
from aurum.lakehouse.queries import CurveFilters


class FakeCursor:
    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent
        self.description = [("curve_key",), ("asof_date",), ("mid",)]

    def execute(self, sql: str, params: Any = None) -> None:
        self.sent[-1]["sql"] = sql

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [("k1", datetime.date(2025, 9, 12), 41.5), ("k2", datetime.date(2025, 9, 12), None)]


class FakeConnection:
    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent
        self.closed = False

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.sent)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def trino_cluster(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import trino

    sent: list[dict[str, Any]] = []

    def connect(**kwargs: Any) -> FakeConnection:
        sent.append({"connect": kwargs})
        return FakeConnection(sent)

    monkeypatch.setattr(trino.dbapi, "connect", connect)
    return sent


def test_engine_is_chosen_by_setting(settings) -> None:
    settings.AURUM_QUERY_ENGINE = "duckdb"
    assert isinstance(get_engine(), DuckDBEngine)
    settings.AURUM_QUERY_ENGINE = "trino"
    settings.AURUM_TRINO_URL = "http://desk@trino.internal:8081"
    assert isinstance(get_engine(), TrinoEngine)
    settings.AURUM_TRINO_URL = ""
    with pytest.raises(RuntimeError, match="AURUM_TRINO_URL"):
        get_engine()
    settings.AURUM_QUERY_ENGINE = "spark"
    with pytest.raises(ValueError, match="duckdb or trino"):
        get_engine()


def test_a_latest_read_sends_trino_sql_on_the_latest_table_and_returns_arrow(settings, trino_cluster) -> None:
    settings.AURUM_QUERY_ENGINE = "trino"
    settings.AURUM_TRINO_URL = "https://desk@trino.internal:8443"

    result = selectors.curve_points(filters=CurveFilters(datasets=("vendor:EUGP",), curve_keys=("k1",)))

    connect, sent = trino_cluster[0]["connect"], trino_cluster[0]["sql"]
    assert (connect["host"], connect["port"], connect["user"], connect["http_scheme"]) == (
        "trino.internal",
        8443,
        "desk",
        "https",
    )
    parsed = sqlglot.parse_one(sent, read="trino")
    tables = {".".join(p.name for p in t.parts) for t in parsed.find_all(sqlglot.exp.Table)}
    assert tables == {"iceberg.market.curve_latest"}
    assert "'vendor:EUGP'" in sent and "'k1'" in sent
    assert result.table.column_names == ["curve_key", "asof_date", "mid"]
    assert result.table.column("mid").to_pylist() == [41.5, None]
    assert result.files_scanned == -1


def test_snapshot_pinned_reads_are_refused_on_trino(settings, trino_cluster) -> None:
    engine = TrinoEngine("http://trino:8080")
    with pytest.raises(NotImplementedError):
        engine.query("SELECT 1", [ScanSpec("market.curve_observation", "obs", snapshot_id=42)])
    assert trino_cluster == []
