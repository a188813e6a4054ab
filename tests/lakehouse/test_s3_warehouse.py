"""An S3 warehouse (AURUM_WAREHOUSE=s3://…) against a real S3 API server on loopback (moto's server mode):
real workbooks ingested through the pipeline land in the bucket (Iceberg data and metadata, the raw
workbook), and every read path (the catalog, a curve, its history, exports, readiness, maintenance, a
backup) answers from it, exactly as from the same workbooks in a local folder."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from apps.ingestion.models import IngestRun
from apps.maintenance.backups import backup_create, backup_read, backup_verify
from apps.maintenance.services import lakehouse_maintain, lakehouse_tables
from tests.support.curves import a_curve, parsed
from tests.support.lake import EUGP_DAYS, Lake, eod, private_lake

BUCKET = "aurum-warehouse"
KEYS = {"AURUM_S3_ACCESS_KEY_ID": "aurum-test", "AURUM_S3_SECRET_ACCESS_KEY": "aurum-test-secret"}
D1, D2 = EUGP_DAYS[:2]


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["AURUM_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AURUM_S3_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)
    client.endpoint = endpoint
    yield client
    server.stop()


@pytest.fixture(scope="module")
def s3_lake(s3: Any, django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[Lake]:
    files = [eod("EUGP", D1), eod("EUGP", D2)]
    with (
        django_db_blocker.unblock(),
        private_lake(
            tmp_path_factory.mktemp("s3lake"),
            files,
            warehouse=f"s3://{BUCKET}/",
            AURUM_S3_ENDPOINT=s3.endpoint,
            **KEYS,
        ) as lake,
    ):
        yield lake


def _keys(s3: Any, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


@pytest.fixture
def get(api: Any, world: Any, s3_lake: Lake) -> Any:
    def _get(path: str, **params: Any) -> Any:
        return api.get(f"/api{path}", params, **world.acme.auth("viewer"))

    return _get


def test_an_ingest_writes_data_metadata_and_the_raw_workbook_to_the_bucket(s3, s3_lake):
    keys = _keys(s3, f"{s3_lake.catalog}/")
    run = IngestRun.objects.get(pk=s3_lake.run_ids[0])

    assert any(k.startswith(f"{s3_lake.catalog}/market/curve_observation/data/") for k in keys)
    assert any(k.endswith(".metadata.json") for k in keys)
    assert run.raw_uri.startswith(f"s3://{BUCKET}/{s3_lake.catalog}/raw/")
    raw_key = run.raw_uri.removeprefix(f"s3://{BUCKET}/")
    assert s3.get_object(Bucket=BUCKET, Key=raw_key)["Body"].read() == eod("EUGP", D1).read_bytes()
    assert not any(Path(s3_lake.warehouse).rglob("*"))  # nothing written to a local folder


def test_a_curve_read_from_the_bucket_is_what_the_workbook_says(get):
    key = a_curve("EUGP", D2)
    response = get(f"/v2/curves/{key}")

    assert response.status_code == 200
    points = {p["tenor_label"]: p for p in response.json()["data"]["points"]}
    quoted = {
        label: row for (k, label), row in parsed("EUGP", D2).items() if k == key and row["mid"] is not None
    }
    assert quoted and set(quoted) <= set(points)
    for label, row in quoted.items():
        assert points[label]["mid"] == pytest.approx(row["mid"])
    assert response.json()["data"]["curve"]["last_asof"] == D2.isoformat()


def test_history_spans_both_vintages_and_the_export_reads_the_bucket(get):
    key = a_curve("EUGP", D2)
    label = next(
        label for (k, label), row in parsed("EUGP", D1).items() if k == key and row["mid"] is not None
    )
    history = get(f"/v2/curves/{key}/history", tenor_label=label).json()["data"]
    export = get("/v2/curves/export", curve_key=key, format="parquet")

    assert [h["asof_date"] for h in history] == [D1.isoformat(), D2.isoformat()]
    assert history[0]["mid"] == pytest.approx(parsed("EUGP", D1)[(key, label)]["mid"])
    assert export.status_code == 200
    table = pq.read_table(
        io.BytesIO(b"".join(export.streaming_content) if export.streaming else export.content)
    )
    assert table.num_rows == int(export["X-Row-Count"]) > 0


def test_readiness_checks_the_bucket_is_writable(api, s3_lake):
    response = api.get("/health/ready?skip=worker")

    assert response.status_code == 200
    assert response.json()["checks"]["warehouse"]["ok"] is True
    assert response.json()["checks"]["warehouse"]["detail"] == "writable"


def test_maintenance_and_a_backup_work_on_the_bucket(s3_lake, settings, tmp_path, db):
    settings.AURUM_LAKEHOUSE_COMPACT_MIN_FILES = 2
    tables = [t for t in lakehouse_tables() if t.startswith("market.curve")]

    run = lakehouse_maintain(tables=tables, dry_run=True)
    manifest = backup_create(out=tmp_path / "backup", schema_name=None)

    assert run.status == "succeeded" and set(run.tables) == set(tables)
    assert all("error" not in report for report in run.tables.values())
    assert manifest["tables"]["market.curve_observation"]["rows"] > 0
    copied = list((tmp_path / "backup" / "warehouse").rglob("*.parquet"))
    assert copied and backup_read(tmp_path / "backup")["warehouse"] == settings.AURUM_WAREHOUSE
    assert backup_verify(source=tmp_path / "backup") == []
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["kind"] == "platform"
