"""Downloading an export: 409 before it succeeded, the file with its sha256 while valid (recorded in the
ledger), 410 once expired; the prune deletes expired files only. Members without ``tenant:export``: 403."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.exports.models import TenantExport
from apps.exports.services import tenant_export_prune
from tenants.models import Tenant
from tests.support.audit import ledger

CONTENT = b"PK-not-really-a-zip"


@pytest.fixture
def exports(world, tmp_path: Path) -> dict[str, TenantExport]:
    acme = Tenant.objects.get(pk=world.acme.pk)
    now = timezone.now()

    def make(name: str, status: str, expires: timedelta) -> TenantExport:
        path = tmp_path / f"{name}.zip"
        path.write_bytes(CONTENT)
        return TenantExport.objects.create(
            tenant=acme,
            schema_name="acme",
            status=status,
            file_path=str(path) if status == "succeeded" else "",
            sha256=hashlib.sha256(CONTENT).hexdigest(),
            size=len(CONTENT),
            expires_at=now + expires,
        )

    return {
        "queued": make("queued", "queued", timedelta(days=1)),
        "valid": make("valid", "succeeded", timedelta(days=1)),
        "expired": make("expired", "succeeded", timedelta(seconds=-1)),
    }


def test_a_valid_export_downloads_and_is_recorded(world, api, exports):
    export = exports["valid"]

    response = api.get(f"/api/v2/exports/{export.pk}/download", **world.acme.auth("admin"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert response["X-Export-Sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert "no-store" in response["Cache-Control"]
    last = ledger("acme")[-1]
    assert (last.action, last.resource_id, last.actor_kind) == (
        "tenant.export.download",
        str(export.pk),
        "token",
    )


def test_not_ready_is_409_and_expired_is_410_and_nothing_is_recorded(world, api, exports):
    before = ledger("acme")[-1].sequence
    auth = world.acme.auth("admin")

    queued = api.get(f"/api/v2/exports/{exports['queued'].pk}/download", **auth)
    expired = api.get(f"/api/v2/exports/{exports['expired'].pk}/download", **auth)

    assert (queued.status_code, queued.json()["type"].rsplit("/", 1)[-1]) == (409, "export-not-ready")
    assert (expired.status_code, expired.json()["type"].rsplit("/", 1)[-1]) == (410, "export-expired")
    assert ledger("acme")[-1].sequence == before


def test_the_prune_deletes_expired_files_only(world, exports):
    expired, valid = Path(exports["expired"].file_path), Path(exports["valid"].file_path)

    assert tenant_export_prune() == 1

    assert not expired.exists() and valid.exists()
    assert TenantExport.objects.get(pk=exports["expired"].pk).file_path == ""
    assert TenantExport.objects.get(pk=exports["valid"].pk).file_path == str(valid)


def test_an_analyst_gets_403(world, api, exports):
    response = api.get(f"/api/v2/exports/{exports['valid'].pk}/download", **world.acme.auth("analyst"))

    assert response.status_code == 403
    assert "tenant:export" in response.json()["detail"]
