"""A tenant created here (never acme or globex) is exported through the API by a real worker — the archive's
manifest, contents, no webhook secret, the ledger verifying — then offboarded: suspended, refused before its
grace has passed or when not suspended, and deleted: schema, Iceberg tables and files, public rows; other
tenants untouched."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.accounts.services import api_token_create, membership_create, user_create
from apps.audit.verification import audit_chain_verify
from apps.exports.models import TenantExport
from apps.offboarding.lakehouse import namespace_remove
from apps.offboarding.models import OffboardingReport
from apps.ppa.lakehouse import ppa_rows_append, ppa_valuation_table_name
from aurum.lakehouse.catalog import get_catalog
from tenants.models import Plan, Tenant
from tenants.services import tenant_create
from tests.support.audit import ledger

SCHEMA = "doomed_t"
BOSS = "boss@doomed.example"


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def _remove_everything() -> None:
    tenant = Tenant.objects.filter(schema_name=SCHEMA).first()
    if tenant is not None:
        namespace_remove(namespace=tenant.lakehouse_namespace, schema_name=SCHEMA)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        Tenant.objects.filter(pk=tenant.pk).delete()
    OffboardingReport.objects.filter(schema_name=SCHEMA).delete()
    TenantExport.objects.filter(schema_name=SCHEMA).delete()
    # Raw: Django's delete collector would also look for the user in tenant apps' tables (created_by), which
    # the public schema does not have; the user's memberships and tokens went with the tenant.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user WHERE email = %s", [BOSS])


@pytest.fixture
def doomed(committed_world) -> Iterator[dict]:
    _remove_everything()
    tenant = tenant_create(name="Doomed Co", schema_name=SCHEMA, plan=Plan.objects.get(code="standard"))
    user = user_create(email=BOSS, password="boss-password-123")
    membership = membership_create(user=user, tenant=tenant, role="admin")
    _, raw = api_token_create(membership=membership, name="boss token")
    _, narrow = api_token_create(membership=membership, name="no export", scopes=["scenarios:read"])
    ppa_rows_append(
        tenant=tenant,
        rows=[
            {
                "valuation_id": "v-1",
                "asof_date": datetime.date(2025, 1, 1),
                "ppa_contract_id": "c-1",
                "metric": "mid",
                "npv": 1,
            }
        ],
    )
    host = {"HTTP_HOST": tenant.get_primary_domain().domain}
    try:
        yield {
            "tenant": tenant,
            "auth": {"HTTP_AUTHORIZATION": f"Bearer {raw}", **host},
            "narrow": {"HTTP_AUTHORIZATION": f"Bearer {narrow}", **host},
        }
    finally:
        _remove_everything()


def _wait_finished(api, auth, export_id: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        data = api.get(f"/api/v2/exports/{export_id}", **auth).json()["data"]
        if data["status"] in ("succeeded", "failed"):
            return data
        time.sleep(0.3)
    log = (Path(settings.VAR_DIR) / "test-worker.log").read_text()[-3000:]
    raise AssertionError(f"the export did not finish: {data}\n{log}")


def test_an_admin_exports_the_tenant_through_the_api(doomed, api, celery_worker):
    auth = doomed["auth"]
    scenario = api.post("/api/v2/scenarios", {"name": "Doomed plan"}, format="json", **auth)
    hook = api.post(
        "/api/v2/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["scenario.run.succeeded"]},
        format="json",
        **auth,
    )
    assert (scenario.status_code, hook.status_code) == (201, 201)
    secret = hook.json()["data"]["secret"]

    # A token without the tenant:export scope is refused, and nothing is queued
    refused = api.post("/api/v2/exports", **doomed["narrow"])
    assert refused.status_code == 403 and "tenant:export" in refused.json()["detail"]
    assert not TenantExport.objects.filter(schema_name=SCHEMA).exists()

    queued = api.post("/api/v2/exports", **auth)
    assert queued.status_code == 202, queued.content
    export_id = queued.json()["data"]["id"]
    assert queued["Location"].endswith(f"/api/v2/exports/{export_id}")
    again = api.post("/api/v2/exports", **auth)
    finished = _wait_finished(api, auth, export_id)
    assert finished["status"] == "succeeded", finished["error"]
    assert again.status_code in (202, 409)  # 409 while the first was still queued or running

    download = api.get(finished["download_url"], **auth)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == download["X-Export-Sha256"] == finished["sha256"]
    assert len(body) == finished["size"]

    bundle = zipfile.ZipFile(io.BytesIO(body))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["tenant"] == {"schema": SCHEMA, "name": "Doomed Co"}
    assert manifest["aurum_version"] == "0.1.0"
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(bundle.namelist()) == {"manifest.json", *listed}
    for path, entry in listed.items():
        assert hashlib.sha256(bundle.read(path)).hexdigest() == entry["sha256"], path
    assert {p: listed[p]["rows"] for p in ("scenarios.jsonl", "webhooks.jsonl", "members.jsonl")} == {
        "scenarios.jsonl": 1,
        "webhooks.jsonl": 1,
        "members.jsonl": 1,
    }
    assert json.loads(bundle.read("scenarios.jsonl"))["name"] == "Doomed plan"
    assert json.loads(bundle.read("members.jsonl"))["user__email"] == BOSS
    webhook = json.loads(bundle.read("webhooks.jsonl"))
    assert webhook["url"] == "http://127.0.0.1:9/hook" and "secret" not in webhook
    assert all(secret.encode() not in bundle.read(path) for path in listed)
    rows = pq.read_table(io.BytesIO(bundle.read("ppa/valuation_rows.parquet")))
    assert (rows.num_rows, rows.column("valuation_id").to_pylist()) == (1, ["v-1"])
    verification = json.loads(bundle.read("audit/verification.json"))
    lines = bundle.read("audit/ledger.jsonl").decode().splitlines()
    assert verification["ok"] is True and verification["checked"] == len(lines) - 1
    assert [json.loads(line).get("action") for line in lines[:-1]][-1] == "tenant.export.request"
    # The request, the worker's completion and the download are in the tenant's ledger
    actions = [e.action for e in ledger(SCHEMA)]
    assert actions[-3:] == ["tenant.export.request", "tenant.export.complete", "tenant.export.download"]
    with schema_context(SCHEMA):
        assert audit_chain_verify().ok


def test_offboarding_refuses_early_then_deletes_everything_of_that_tenant_only(doomed, api):
    tenant = doomed["tenant"]
    location = get_catalog().load_table(ppa_valuation_table_name(tenant)).location()
    filesystem, table_path = pafs.FileSystem.from_uri(location)
    assert filesystem.get_file_info(pafs.FileSelector(table_path, recursive=True))
    acme_head = ledger("acme")[-1].hash
    acme_tables = get_catalog().list_tables("t_acme")

    out = StringIO()
    call_command("tenant_offboard", SCHEMA, grace_days=3, staff="staff@aurum.example", stdout=out)

    assert "suspended, export" in out.getvalue()
    assert api.get("/api/v2/scenarios", **doomed["auth"]).status_code == 403
    with pytest.raises(CommandError, match="grace period lasts until"):
        call_command("tenant_offboard", SCHEMA, execute=True)
    assert _schema_exists(SCHEMA)
    report = OffboardingReport.objects.get(schema_name=SCHEMA, status="scheduled")
    OffboardingReport.objects.filter(pk=report.pk).update(
        delete_after=report.delete_after - datetime.timedelta(days=4)
    )
    Tenant.objects.filter(pk=tenant.pk).update(status="active")
    with pytest.raises(CommandError, match="not suspended"):
        call_command("tenant_offboard", SCHEMA, execute=True)
    assert _schema_exists(SCHEMA) and get_catalog().list_tables(tenant.lakehouse_namespace)
    Tenant.objects.filter(pk=tenant.pk).update(status="suspended")

    out = StringIO()
    call_command("tenant_offboard", due=True, stdout=out)

    removed = OffboardingReport.objects.get(pk=report.pk)
    assert removed.status == "deleted" and json.loads(out.getvalue()) == {SCHEMA: removed.report}
    assert not _schema_exists(SCHEMA)
    assert not Tenant.objects.filter(schema_name=SCHEMA).exists()
    assert not Membership.objects.filter(user__email=BOSS).exists()
    assert tenant.lakehouse_namespace not in [ns[0] for ns in get_catalog().list_namespaces()]
    assert filesystem.get_file_info(table_path).type == pafs.FileType.NotFound
    lake = removed.report["lakehouse"]
    assert lake["tables_dropped"] == [ppa_valuation_table_name(tenant)]
    assert lake["files_removed"] >= 3 and lake["bytes_removed"] > 0
    assert "audit_auditentry" in removed.report["schema"]["tables"]
    rows = removed.report["public_rows"]
    assert (rows["accounts.Membership"], rows["accounts.ApiToken"], rows["tenants.Tenant"]) == (1, 2, 1)
    # Other tenants untouched
    assert _schema_exists("acme") and ledger("acme")[-1].hash == acme_head
    assert get_catalog().list_tables("t_acme") == acme_tables
    with schema_context("acme"):
        assert audit_chain_verify().ok
