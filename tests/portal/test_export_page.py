"""``/settings/export/``: admins request an export of the tenant and see their own exports (never another
tenant's); members without ``tenant:export`` get 403 and nothing is queued."""

from __future__ import annotations

from django.test import Client

from apps.accounts.models import User
from apps.exports.models import TenantExport
from tenants.models import Tenant
from tests.support.audit import ledger


def _signed_in(world, role: str = "admin", tenant: str = "acme") -> Client:
    where = getattr(world, tenant)
    client = Client(HTTP_HOST=where.host)
    client.force_login(User.objects.get(email=where.members[role].email))
    return client


def test_an_admin_requests_an_export_and_sees_only_their_tenants(world):
    globex = Tenant.objects.get(pk=world.globex.pk)
    TenantExport.objects.create(tenant=globex, schema_name="globex", status="succeeded", sha256="f" * 64)
    portal = _signed_in(world)

    requested = portal.post("/settings/export/request/")
    page = portal.get("/settings/export/")

    assert (requested.status_code, requested["Location"]) == (302, "/settings/export/")
    assert page.status_code == 200
    export = TenantExport.objects.get(tenant_id=world.acme.pk)
    assert (
        export.status == "queued"
        and export.requested_by_id == User.objects.get(email="admin@acme.example").pk
    )
    html = page.content.decode()
    assert f'id="export-{export.pk}"' in html and "admin@acme.example" in html
    assert "f" * 20 not in html and "globex" not in html.lower()
    assert 'hx-trigger="every 2s"' in html  # refreshes while the export is prepared
    last = ledger("acme")[-1]
    assert (last.action, last.actor_kind, last.actor_display) == (
        "tenant.export.request",
        "user",
        "admin@acme.example",
    )


def test_a_trader_gets_403_and_nothing_is_queued(world):
    portal = _signed_in(world, "trader")
    before = ledger("acme")[-1].sequence

    assert portal.get("/settings/export/").status_code == 403
    assert portal.post("/settings/export/request/").status_code == 403
    assert not TenantExport.objects.filter(tenant_id=world.acme.pk).exists()
    assert ledger("acme")[-1].sequence == before


def test_a_second_request_while_one_is_open_is_refused(world):
    portal = _signed_in(world)
    portal.post("/settings/export/request/")

    again = portal.post("/settings/export/request/")

    assert again.status_code == 409
    assert "already queued or running" in again.content.decode()
    assert TenantExport.objects.filter(tenant_id=world.acme.pk).count() == 1
