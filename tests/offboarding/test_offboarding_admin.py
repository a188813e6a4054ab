"""The Tenant admin's "Offboard" action: staff suspend a tenant, queue its final export and schedule its
deletion in 30 days, recorded in the tenant's ledger with the staff member as actor; the report is in the
admin. A second offboarding of the same tenant is refused and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.exports.models import TenantExport
from apps.offboarding.models import OffboardingReport
from tenants.models import Tenant
from tests.support.audit import ledger


def test_staff_offboard_a_tenant_from_the_admin(world, api):
    assert api.login(email=world.staff_email, password=world.staff_password)
    before = timezone.now()

    response = api.post(
        "/admin/tenants/tenant/", {"action": "offboard", "_selected_action": [world.globex.pk]}
    )
    again = api.post(
        "/admin/tenants/tenant/", {"action": "offboard", "_selected_action": [world.globex.pk]}, follow=True
    )

    assert response.status_code == 302
    globex = Tenant.objects.get(pk=world.globex.pk)
    assert globex.status == "suspended"
    report = OffboardingReport.objects.get(tenant=globex)
    assert report.status == "scheduled"
    assert before + timedelta(days=30) <= report.delete_after <= timezone.now() + timedelta(days=30)
    export = TenantExport.objects.get(tenant=globex)
    assert (export.reason, export.status, report.export_id) == ("offboarding", "queued", export.pk)
    assert "already scheduled for deletion" in again.content.decode()
    assert OffboardingReport.objects.filter(tenant=globex).count() == 1
    entries = ledger("globex")[-2:]
    assert [e.action for e in entries] == ["tenant.export.request", "tenant.offboard.schedule"]
    assert {e.actor_display for e in entries} == {f"platform staff ({world.staff_email})"}
    page = api.get(f"/admin/offboarding/offboardingreport/{report.pk}/change/")
    assert page.status_code == 200 and "Globex Power" in page.content.decode()


def test_the_platforms_operator_tenant_cannot_be_offboarded(world, api):
    assert api.login(email=world.staff_email, password=world.staff_password)

    response = api.post(
        "/admin/tenants/tenant/", {"action": "offboard", "_selected_action": [world.ops.pk]}, follow=True
    )

    assert "cannot be offboarded" in response.content.decode()
    assert Tenant.objects.get(pk=world.ops.pk).status == "active"
    assert not OffboardingReport.objects.exists()
