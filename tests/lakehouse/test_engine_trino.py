"""The Trino engine against a stand-in coordinator speaking Trino's HTTP client protocol on loopback (no Trino
is reachable here; the live tests in test_trino_live.py run when AURUM_TRINO_URL is set): what SQL every
read path sends, where, and what the selectors make of the paged answer. Curves, lineage, scenario outputs
(page, file, compare), the base curves a run reads at its pinned snapshot, PPA rows and the monthly prices
PPA values against. The exact SQL of each path is pinned in test_trino_sql.py."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlglot

from apps.curves import selectors
from apps.curves.models import Curve
from apps.feeds.selectors import lmp_point_rows
from apps.ingestion.models import IngestRun
from apps.ingestion.quarantine_queries import QUARANTINE_COLUMNS
from apps.ingestion.selectors import curve_point_lineage, ingest_run_quarantine_rows
from apps.ppa.lakehouse import PPA_VALUATION_ARROW, ppa_rows_export, ppa_rows_read
from apps.ppa.selectors import curve_monthly_prices, scenario_run_monthly_prices
from apps.scenarios.models import ScenarioRun
from apps.scenarios.selectors import (
    OUTPUT_COLUMNS,
    OutputFilters,
    run_base_curves,
    run_output_table,
    run_outputs_page,
    runs_compare,
)
from aurum.lakehouse import engines
from aurum.lakehouse.engines import DuckDBEngine, TrinoEngine, get_engine
from aurum.lakehouse.feed_queries import LmpFilters
from aurum.lakehouse.queries import POINT_COLUMNS, CurveFilters
from tenants.models import Tenant
from tests.support.trino_server import (
    Answer,
    TrinoStandIn,
    answer_of,
    trino_error,
    trino_reads,
    trino_stand_in,
)

D12 = datetime.date(2025, 9, 12)
SQLISH = 'x FROM "obs" y\'; --'


@pytest.fixture
def trino_cluster(settings) -> Iterator[TrinoStandIn]:
    """Reads go to the Trino engine, whose client talks HTTP to the stand-in coordinator."""
    with trino_reads(settings) as stand_in:
        yield stand_in


def tables_read(sql: str) -> list[tuple[str, str | None]]:
    """Each table the Trino SQL reads (parsed as Trino): its dotted name and its ``FOR VERSION AS OF``."""
    parsed = sqlglot.parse_one(sql, read="trino")
    found = []
    for table in parsed.find_all(sqlglot.exp.Table):
        version = table.args.get("version")
        found.append(
            (".".join(part.name for part in table.parts), version.expression.name if version else None)
        )
    return sorted(found)


def output_row(run: ScenarioRun, month: datetime.date, value: float, curve_key: str = "k1") -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in OUTPUT_COLUMNS}
    row.update(
        asof_date=D12,
        scenario_id=str(run.scenario_id),
        run_id=str(run.pk),
        curve_key=curve_key,
        tenor_type="MONTHLY",
        contract_month=month,
        tenor_label=month.strftime("%Y-%m"),
        metric="mid",
        value=value,
    )
    return row


def a_run(snapshot: int | None = 77) -> ScenarioRun:
    return ScenarioRun(
        id=uuid.uuid4(),
        scenario_id=uuid.uuid4(),
        status=ScenarioRun.Status.SUCCEEDED,
        output_snapshot_id=snapshot,
        base_asof=D12,
        curve_units={"k1": "EUR/MWh"},
    )


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


def test_a_latest_read_sends_trino_sql_on_the_latest_table_and_returns_arrow(
    trino_cluster: TrinoStandIn,
) -> None:
    trino_cluster.answer = answer_of(
        [
            {"curve_key": "k1", "asof_date": D12, "mid": 41.5},
            {"curve_key": "k2", "asof_date": D12, "mid": None},
            {"curve_key": "k3", "asof_date": D12, "mid": 7.25},
        ],
        page_rows=2,
    )

    result = selectors.curve_points(filters=CurveFilters(datasets=("vendor:EUGP",), curve_keys=("k1",)))

    statement = trino_cluster.statements[0]
    assert (statement["headers"]["X-Trino-User"], statement["headers"]["X-Trino-Catalog"]) == (
        "desk",
        "iceberg",
    )
    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_latest", None)]
    assert "'vendor:EUGP'" in trino_cluster.sql and "'k1'" in trino_cluster.sql
    # queued, then two pages of rows: every nextUri followed, in order
    assert [method for method, _ in trino_cluster.requests] == ["POST", "GET", "GET"]
    assert result.table.column_names == ["curve_key", "asof_date", "mid"]
    assert result.table.to_pylist() == [
        {"curve_key": "k1", "asof_date": D12, "mid": 41.5},
        {"curve_key": "k2", "asof_date": D12, "mid": None},
        {"curve_key": "k3", "asof_date": D12, "mid": 7.25},
    ]
    assert result.files_scanned == -1


def test_a_sql_ish_filter_value_stays_one_literal(trino_cluster: TrinoStandIn) -> None:
    selectors.curve_points(filters=CurveFilters(datasets=("vendor:EUGP",), location=SQLISH), asof=D12)

    parsed = sqlglot.parse_one(trino_cluster.sql, read="trino")
    literals = [node.this for node in parsed.find_all(sqlglot.exp.Literal) if node.is_string]
    assert SQLISH in literals
    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_observation", None)]


def test_lineage_reads_the_point_on_trino(db, trino_cluster: TrinoStandIn) -> None:
    point: dict[str, Any] = {name: None for name in POINT_COLUMNS}
    point.update(curve_key="k1", tenor_label="2025-10", asof_date=D12, mid=42.5, source_file="EOD.xlsx")
    point.update(sheet_name="Fixed Prices - Mid", dataset="vendor:EUGP", rules_passed="a|b", is_derived=False)
    trino_cluster.answer = answer_of([point])
    curve = Curve(curve_key="k1", dataset="vendor:EUGP")

    lineage = curve_point_lineage(curve=curve, tenor_label="2025-10", asof=D12)

    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_observation", None)]
    where = sqlglot.parse_one(trino_cluster.sql, read="trino").find(sqlglot.exp.Where)
    assert where is not None
    assert where.sql("trino") == (
        "WHERE \"dataset\" = 'vendor:EUGP' AND \"curve_key\" = 'k1' AND \"tenor_label\" = '2025-10' "
        "AND \"asof_date\" = CAST('2025-09-12' AS DATE)"
    )
    assert lineage["point"]["mid"] == 42.5
    assert lineage["source"]["sheet_name"] == "Fixed Prices - Mid"
    assert lineage["quality_rules_passed"] == ["a", "b"]
    assert lineage["read_from_snapshot_id"] is None  # Trino does not say which snapshot it read


def test_a_run_outputs_page_reads_the_runs_snapshot_on_trino(trino_cluster: TrinoStandIn) -> None:
    run = a_run(snapshot=77)
    trino_cluster.answer = answer_of([output_row(run, datetime.date(2025, 10, 1), 50.0)])

    page = run_outputs_page(
        tenant=Tenant(schema_name="acme"), run=run, filters=OutputFilters(metric="mid"), limit=10, offset=20
    )

    assert tables_read(trino_cluster.sql) == [("iceberg.t_acme.scenario_output", "77")]
    parsed = sqlglot.parse_one(trino_cluster.sql, read="trino")
    assert parsed.args["limit"].expression.name == "10" and parsed.args["offset"].expression.name == "20"
    assert f"\"run_id\" = '{run.pk}'" in trino_cluster.sql and "\"metric\" = 'mid'" in trino_cluster.sql
    assert page.column_names == list(OUTPUT_COLUMNS)
    assert page.column("value").to_pylist() == [50.0]


def test_a_runs_whole_output_reads_every_column_on_trino(trino_cluster: TrinoStandIn) -> None:
    run = a_run(snapshot=78)
    trino_cluster.answer = answer_of([output_row(run, datetime.date(2025, 10, 1), 50.0)])

    run_output_table(tenant=Tenant(schema_name="acme"), run=run, metric=None)

    parsed = sqlglot.parse_one(trino_cluster.sql, read="trino")
    assert tables_read(trino_cluster.sql) == [("iceberg.t_acme.scenario_output", "78")]
    assert isinstance(parsed.expressions[0], sqlglot.exp.Star)
    assert "metric" not in str(parsed.find(sqlglot.exp.Where))


def test_two_runs_compared_each_at_their_snapshot_on_trino(trino_cluster: TrinoStandIn) -> None:
    run, other = a_run(snapshot=5), a_run(snapshot=6)
    trino_cluster.answer = answer_of([{"curve_key": "k1", "delta": 1.5}])

    table = runs_compare(tenant=Tenant(schema_name="acme"), run=run, other=other, metric="p90")

    assert tables_read(trino_cluster.sql) == [
        ("iceberg.t_acme.scenario_output", "5"),
        ("iceberg.t_acme.scenario_output", "6"),
    ]
    assert f'"a"."run_id" = \'{run.pk}\'' in trino_cluster.sql
    assert f'"b"."run_id" = \'{other.pk}\'' in trino_cluster.sql
    assert table.column("delta").to_pylist() == [1.5]


def test_a_runs_pinned_base_curves_read_on_trino(world, trino_cluster: TrinoStandIn) -> None:
    """A run reads its curves at the snapshot recorded at submit: on Trino ``FOR VERSION AS OF`` (this read
    used to be refused on Trino)."""
    trino_cluster.answer = answer_of(
        [
            {
                "curve_key": key,
                "tenor_label": label,
                "tenor_type": "MONTHLY",
                "contract_month": month,
                "asof_date": D12,
                "mid": mid,
                "currency": "EUR",
                "per_unit": "MWh",
            }
            for key, label, month, mid in (
                ("k1", "2025-10", datetime.date(2025, 10, 1), 40.0),
                ("k1", "2025-11", datetime.date(2025, 11, 1), 41.0),
                ("k2", "2025-10", datetime.date(2025, 10, 1), 30.0),
            )
        ]
    )
    run = ScenarioRun(
        id=uuid.uuid4(),
        curve_snapshot_id=4242,
        base_asof_requested=D12,
        options={"inputs": {"curve_keys": ["k1", "k2"]}},
    )

    base = run_base_curves(run=run, tenant=Tenant.objects.get(pk=world.acme.pk))

    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_observation", "4242")]
    assert base.curves.curve_keys == ("k1", "k2")
    assert base.curves.tenor_labels == ("2025-10", "2025-11")
    assert base.curves.mid.tolist()[0] == [40.0, 41.0]
    assert base.curves.mid.tolist()[1][0] == 30.0
    assert base.units == {"k1": "EUR/MWh", "k2": "EUR/MWh"}
    assert base.snapshot_id == 4242


def test_ppa_rows_read_on_trino(trino_cluster: TrinoStandIn) -> None:
    trino_cluster.answer = answer_of([{"valuation_id": "v1", "metric": "NPV", "value": 12.5}])

    rows = ppa_rows_read(
        tenant=Tenant(schema_name="acme"), contract_id="c1", valuation_ids=["v1", "v2"], metric="npv", limit=5
    )

    assert tables_read(trino_cluster.sql) == [("iceberg.t_acme.ppa_valuation", None)]
    where = sqlglot.parse_one(trino_cluster.sql, read="trino").find(sqlglot.exp.Where)
    assert where is not None
    assert where.sql("trino") == (
        "WHERE \"ppa_contract_id\" = 'c1' AND \"valuation_id\" IN ('v1', 'v2') "
        "AND LOWER(\"metric\") = LOWER('npv')"
    )
    assert rows == [{"valuation_id": "v1", "metric": "NPV", "value": 12.5}]


def test_ppa_monthly_prices_from_a_run_on_trino(trino_cluster: TrinoStandIn) -> None:
    run = a_run(snapshot=90)
    months = [datetime.date(2025, 11, 1), datetime.date(2025, 10, 1)]
    trino_cluster.answer = answer_of(
        [output_row(run, month, value) for month, value in zip(months, (61.0, 60.0), strict=True)]
    )

    prices = scenario_run_monthly_prices(tenant=Tenant(schema_name="acme"), run=run, curve_key="k1")

    assert tables_read(trino_cluster.sql) == [("iceberg.t_acme.scenario_output", "90")]
    assert "\"tenor_type\" = 'MONTHLY'" in trino_cluster.sql and "\"curve_key\" = 'k1'" in trino_cluster.sql
    assert (prices.months, prices.prices, prices.currency) == (sorted(months), [60.0, 61.0], "EUR")


def test_ppa_monthly_prices_from_a_curve_on_trino(world, trino_cluster: TrinoStandIn) -> None:
    key = "trino-stand-in-curve"
    Curve.objects.create(
        curve_key=key,
        dataset="vendor:EUGP",
        vendor="EUGP",
        asset_class="gas",
        currency="EUR",
        first_asof=D12,
        last_asof=D12,
    )
    trino_cluster.answer = answer_of(
        [
            {"contract_month": datetime.date(2025, 10 + i, 1), "mid": 30.0 + i, "curve_key": key}
            for i in range(2)
        ]
    )

    prices = curve_monthly_prices(tenant=Tenant.objects.get(pk=world.acme.pk), curve_key=key)

    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_observation", None)]
    sql = trino_cluster.sql
    assert f"\"curve_key\" IN ('{key}')" in sql and "\"tenor_type\" = 'MONTHLY'" in sql
    assert "\"asof_date\" = CAST('2025-09-12' AS DATE)" in sql
    assert (prices.asof, prices.prices, prices.currency) == (D12, [30.0, 31.0], "EUR")


# --- failures: each a problem body, never a 500 ------------------------------------------------------------


def _curves(api: Any, world: Any) -> Any:
    # A location no other test asks for: the answer cannot come from the response cache.
    params = {"location": f"trino-{uuid.uuid4().hex[:8]}", "limit": 5}
    return api.get("/api/v2/curves", params, **world.acme.auth("viewer"))


def test_a_query_trino_rejects_is_a_502_problem(api, world, trino_cluster: TrinoStandIn) -> None:
    trino_cluster.answer = Answer(error=trino_error("COLUMN_NOT_FOUND", code=47))

    response = _curves(api, world)

    assert response.status_code == 502
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://aurum.dev/problems/query-engine-error"
    assert body["engine_error"] == "COLUMN_NOT_FOUND"
    assert "COLUMN_NOT_FOUND" in body["detail"] and "20261203_" in body["detail"]  # Trino's query id
    assert "line 1:15" not in response.content.decode()  # Trino's message is logged, not answered
    assert [method for method, _ in trino_cluster.requests] == ["POST", "GET"]


def test_a_failing_cluster_is_a_503_problem(api, world, trino_cluster: TrinoStandIn) -> None:
    trino_cluster.answer = Answer(error=trino_error("GENERIC_INTERNAL_ERROR", "INTERNAL_ERROR", 65536))

    response = _curves(api, world)

    assert response.status_code == 503
    body = response.json()
    assert body["type"] == "https://aurum.dev/problems/query-engine-unavailable"
    assert body["engine_error"] == "GENERIC_INTERNAL_ERROR"


def test_an_unavailable_coordinator_is_a_503_problem_after_the_clients_retries(
    api, world, trino_cluster: TrinoStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "TRINO_MAX_ATTEMPTS", 2)
    trino_cluster.answer = Answer(http_status=503)

    response = _curves(api, world)

    assert response.status_code == 503
    assert response.json()["type"] == "https://aurum.dev/problems/query-engine-unavailable"
    assert trino_cluster.requests == [("POST", "/v1/statement")] * 2


def test_a_coordinator_nobody_answers_is_a_503_problem(api, world, settings) -> None:
    with trino_stand_in() as gone:
        url = gone.url
    settings.AURUM_QUERY_ENGINE = "trino"
    settings.AURUM_TRINO_URL = url

    response = _curves(api, world)

    assert response.status_code == 503
    assert response.json()["type"] == "https://aurum.dev/problems/query-engine-unavailable"


@pytest.mark.parametrize("missing", ["TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND"])
def test_a_tenant_without_an_outputs_table_reads_no_rows_on_trino(
    trino_cluster: TrinoStandIn, missing
) -> None:
    """As on DuckDB (pyiceberg's NoSuchTableError): a tenant that never ran a scenario has no rows."""
    trino_cluster.answer = Answer(error=trino_error(missing, code=46))

    page = run_outputs_page(
        tenant=Tenant(schema_name="newco"), run=a_run(snapshot=3), filters=OutputFilters(), limit=10
    )

    assert page.num_rows == 0 and page.column_names == list(OUTPUT_COLUMNS)
    assert tables_read(trino_cluster.sql) == [("iceberg.t_newco.scenario_output", "3")]


# --- the reads moved onto the engine, and the feeds, through their selectors --------------------------------


def test_the_quarantine_review_reads_on_trino(trino_cluster: TrinoStandIn) -> None:
    held: dict[str, Any] = {name: None for name in QUARANTINE_COLUMNS}
    held.update(sheet_name="Fixed Prices - Mid", curve_key="k1", tenor_label="2025-10", mid=-5.0)
    held.update(quarantine_reason="negative_price|out_of_range")
    trino_cluster.answer = answer_of([held])
    run = IngestRun(pk=42, dataset="vendor:EUGP", asof_date=D12, rows_quarantined=1)

    rows = ingest_run_quarantine_rows(run=run)

    assert tables_read(trino_cluster.sql) == [("iceberg.market.curve_observation_quarantine", None)]
    assert '"ingest_run_id" = 42' in trino_cluster.sql and "'vendor:EUGP'" in trino_cluster.sql
    assert [(row["curve_key"], row["mid"], row["reasons"]) for row in rows] == [
        ("k1", -5.0, ["negative_price", "out_of_range"])
    ]


def test_lmp_points_read_on_trino(db, trino_cluster: TrinoStandIn) -> None:
    start = datetime.datetime(2025, 9, 12, 10, tzinfo=datetime.UTC)
    trino_cluster.answer = answer_of(
        [
            {"iso_code": "CAISO", "location_id": "TH_NP15", "interval_start": start, "price_total": -3.5},
            {
                "iso_code": "CAISO",
                "location_id": "TH_NP15",
                "interval_start": start + datetime.timedelta(hours=1),
                "price_total": 41.25,
            },
        ]
    )

    rows = lmp_point_rows(LmpFilters(isos=("CAISO",), location_id="TH_NP15"), limit=10)

    assert tables_read(trino_cluster.sql) == [("iceberg.market.iso_lmp", None)]
    assert "\"iso_code\" IN ('CAISO')" in trino_cluster.sql
    assert [(row["interval_start"], row["price_total"]) for row in rows] == [
        (start, -3.5),
        (start + datetime.timedelta(hours=1), 41.25),
    ]


def test_the_tenant_exports_ppa_rows_read_on_trino_one_contract_at_a_time(
    trino_cluster: TrinoStandIn,
) -> None:
    def valuation_row(contract: str, seq: int) -> dict[str, Any]:
        row: dict[str, Any] = {name: None for name in PPA_VALUATION_ARROW.names}
        row.update(valuation_id="v1", ppa_contract_id=contract, seq=seq, period=seq, metric="NPV")
        row.update(value=Decimal("12.500000"), asof_date=D12, price=40.0)
        row.update(_ingest_ts=datetime.datetime(2025, 9, 12, 18, tzinfo=datetime.UTC))
        return row

    trino_cluster.queue = [
        answer_of([{"ppa_contract_id": "c1"}, {"ppa_contract_id": "c2"}]),
        answer_of([valuation_row("c1", 0), valuation_row("c1", 1)]),
        answer_of([valuation_row("c2", 0)]),
    ]

    pages = list(ppa_rows_export(tenant=Tenant(schema_name="acme")))

    assert [tables_read(statement["sql"]) for statement in trino_cluster.statements] == [
        [("iceberg.t_acme.ppa_valuation", None)]
    ] * 3
    assert "\"ppa_contract_id\" = 'c2'" in trino_cluster.statements[2]["sql"]
    assert [page.schema for page in pages] == [PPA_VALUATION_ARROW] * 2
    assert [
        (row["ppa_contract_id"], row["seq"], row["value"]) for page in pages for row in page.to_pylist()
    ] == [
        ("c1", 0, Decimal("12.500000")),
        ("c1", 1, Decimal("12.500000")),
        ("c2", 0, Decimal("12.500000")),
    ]


def test_a_struct_column_reads_as_dicts_on_trino(trino_cluster: TrinoStandIn) -> None:
    """``attribution`` is an array of rows: Trino's client gives tuples; the page holds dicts (as DuckDB)."""
    run = a_run(snapshot=12)
    row = output_row(run, datetime.date(2025, 10, 1), 50.0)
    row["attribution"] = [{"component": "shift", "delta": 1.5}, {"component": "shape", "delta": -0.25}]
    trino_cluster.answer = answer_of([row])

    page = run_outputs_page(tenant=Tenant(schema_name="acme"), run=run, filters=OutputFilters(), limit=10)

    assert page.column("attribution").to_pylist() == [row["attribution"]]
