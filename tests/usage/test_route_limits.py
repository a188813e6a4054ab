"""Per-route rate limits of a plan (``PlanRouteLimit``, edited inline on the plan in the Django admin): a
matching route takes from its own bucket, every other route from the plan's."""

from __future__ import annotations

from tenants.services import plan_route_limit_set
from tests.support.usage import quota_tenant


def test_a_route_limit_throttles_that_route_and_not_another(api, world):
    quota = quota_tenant()
    plan_route_limit_set(plan=quota.plan, route="me", requests_per_second=1, burst=2)

    me = [api.get("/api/v2/me", **quota.auth()) for _ in range(3)]
    usage = [api.get("/api/v2/usage", **quota.auth()) for _ in range(3)]

    assert [r.status_code for r in me] == [200, 200, 429]
    assert [r["X-RateLimit-Limit"] for r in me] == ["2", "2", "2"]
    assert me[2].json()["type"] == "https://aurum.dev/problems/throttled"
    assert [r.status_code for r in usage] == [200, 200, 200]
    assert usage[0]["X-RateLimit-Limit"] == "100000"


def test_a_path_pattern_limits_every_route_under_it(api, world):
    quota = quota_tenant()
    plan_route_limit_set(plan=quota.plan, route="/api/v2/usa*", requests_per_second=1, burst=1)

    usage = [api.get("/api/v2/usage", **quota.auth()) for _ in range(2)]
    me = api.get("/api/v2/me", **quota.auth())

    assert [r.status_code for r in usage] == [200, 429]
    assert me.status_code == 200


def test_the_plan_page_in_the_admin_shows_and_saves_route_limits(api, world):
    quota = quota_tenant()
    assert api.login(email=world.staff_email, password=world.staff_password)
    url = f"/admin/tenants/plan/{quota.plan.pk}/change/"

    page = api.get(url)
    saved = api.post(
        url,
        {
            "code": quota.plan.code,
            "name": quota.plan.name,
            "requests_per_second": 5,
            "burst": 10,
            "rows_per_month": 1000,
            "concurrent_scenario_runs": 2,
            "api_requests_per_month": 5000,
            "scenario_runs_per_month": "",
            "export_rows_per_month": "",
            "datasets": "",
            "route_limits-TOTAL_FORMS": 1,
            "route_limits-INITIAL_FORMS": 0,
            "route_limits-0-route": "curves-export",
            "route_limits-0-requests_per_second": 1,
            "route_limits-0-burst": 3,
        },
    )

    assert page.status_code == 200
    assert "route_limits-TOTAL_FORMS" in page.content.decode()
    assert saved.status_code == 302, saved.content.decode()[:3000]
    quota.plan.refresh_from_db()
    assert (quota.plan.api_requests_per_month, quota.plan.scenario_runs_per_month) == (5000, None)
    assert list(quota.plan.route_limits.values_list("route", "requests_per_second", "burst")) == [
        ("curves-export", 1, 3)
    ]
    assert quota.plan.route_limits_version == 1
