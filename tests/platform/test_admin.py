"""The platform Django admin: staff only, on the platform host, every change audited."""

from auditlog.models import LogEntry
from django.db import connection

from apps.accounts.models import ApiToken, User
from tenants.models import Plan, Tenant


def _staff_login(api, world) -> None:
    assert api.login(email=world.staff_email, password=world.staff_password)


def test_non_staff_cannot_use_the_admin(world, api):
    api.force_login(User.objects.get(email="admin@acme.example"))

    response = api.get("/admin/tenants/tenant/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_sees_every_admin_model(world, api):
    _staff_login(api, world)

    for path in (
        "tenants/tenant",
        "tenants/domain",
        "tenants/plan",
        "tenants/entitlement",
        "accounts/user",
        "accounts/membership",
        "accounts/apitoken",
        "auditlog/logentry",
    ):
        assert api.get(f"/admin/{path}/").status_code == 200, path
    page = api.get("/admin/tenants/tenant/").content.decode()
    assert "Acme Energy" in page and "Globex Power" in page


def test_every_registered_admin_page_opens(world, api):
    """The admin runs on the platform host (public schema): a tenant-schema model registered there would
    500, so tenant data (scenarios, PPA contracts) is reached through the tenant API instead."""
    from django.contrib import admin

    _staff_login(api, world)
    for model in admin.site._registry:
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert api.get(path).status_code == 200, path


def test_adding_a_tenant_in_the_admin_provisions_it_and_is_audited(world, api):
    _staff_login(api, world)
    plan = Plan.objects.get(code="standard")

    response = api.post(
        "/admin/tenants/tenant/add/", {"name": "Umbrella Power", "schema_name": "umbrella", "plan": plan.pk}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(schema_name="umbrella")
    assert tenant.get_primary_domain().domain == "umbrella.localhost"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'umbrella'")
        assert cursor.fetchone() == (1,)
    entry = LogEntry.objects.get_for_object(tenant).get(action=LogEntry.Action.CREATE)
    assert entry.actor.email == world.staff_email


def test_changing_a_plan_and_suspending_in_the_admin_are_audited_with_before_and_after(world, api):
    _staff_login(api, world)
    plan = Plan.objects.get(code="standard")
    change = {
        "code": plan.code,
        "name": plan.name,
        "requests_per_second": 99,
        "burst": plan.burst,
        "rows_per_month": plan.rows_per_month,
        "concurrent_scenario_runs": plan.concurrent_scenario_runs,
        "datasets": "",
        "route_limits-TOTAL_FORMS": 0,  # the plan's per-route limits (an inline)
        "route_limits-INITIAL_FORMS": 0,
    }

    api.post(f"/admin/tenants/plan/{plan.pk}/change/", change)
    api.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [world.globex.pk]})

    plan_entry = (
        LogEntry.objects.get_for_object(plan).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    )
    assert plan_entry.changes_dict["requests_per_second"] == [str(plan.requests_per_second), "99"]
    assert plan_entry.actor.email == world.staff_email
    tenant = Tenant.objects.get(pk=world.globex.pk)
    assert tenant.status == "suspended"
    status_entry = LogEntry.objects.get_for_object(tenant).latest("timestamp")
    assert status_entry.changes_dict["status"] == ["active", "suspended"]


def test_creating_a_token_in_the_admin_shows_it_once_and_stores_only_a_hash(world, api):
    _staff_login(api, world)
    membership_id = world.acme.members["viewer"].membership_id

    response = api.post(
        "/admin/accounts/apitoken/add/",
        {"membership": membership_id, "name": "from admin", "scopes": "curves:read"},
        follow=True,
    )

    page = response.content.decode()
    token = ApiToken.objects.get(name="from admin")
    assert f"aurum_{token.prefix}_" in page
    assert token.scopes == ["curves:read"]
    assert len(token.key_hash) == 64
    assert "key_hash" not in LogEntry.objects.get_for_object(token).get().changes_dict
