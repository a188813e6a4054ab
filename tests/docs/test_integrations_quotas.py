"""docs/integrations.md, "Rate limits and quotas": the documented calls work against a real server, and the
documented bodies are what the API answers."""

from __future__ import annotations

import json
from typing import Any

from apps.usage.services import usage_take
from aurum.events.models import OutboxEvent
from tenants.models import Plan, Tenant
from tenants.services import plan_route_limit_set
from tests.support.doc_examples import doc_example, example_run
from tests.support.usage import quota_tenant
from tests.support.world import World

DOC = "docs/integrations.md"


def _env(server: Any, token: str) -> dict[str, str]:
    return {"AURUM_URL": server.url, "AURUM_HOST": "acme.localhost", "AURUM_TOKEN": token}


def test_the_documented_headers_show_the_rate_limit_and_the_quota(
    asgi_server: Any, committed_world: World
) -> None:
    plan = Plan.objects.get(code="enterprise")
    Plan.objects.filter(pk=plan.pk).update(api_requests_per_month=10**9)
    try:
        result = example_run(
            doc_example(DOC, "quota-headers-curl"),
            env=_env(asgi_server, committed_world.acme.members["admin"].token),
        )
    finally:
        Plan.objects.filter(pk=plan.pk).update(api_requests_per_month=None)

    assert result.returncode == 0, result.stderr
    names = sorted(line.split(":")[0].lower() for line in result.stdout.splitlines())
    assert names == [
        "x-quota-limit",
        "x-quota-remaining",
        "x-quota-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ]
    assert "x-quota-limit: 1000000000" in result.stdout.lower()


def test_the_documented_client_answers_and_stops_at_a_used_up_quota(
    asgi_server: Any, committed_world: World
) -> None:
    example = doc_example(DOC, "quota-429-python")
    member = committed_world.acme.members["analyst"]
    served = example_run(example, env=_env(asgi_server, member.token))
    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    month = usage_take(tenant=acme, credential="doc", metric="api_requests", amount=0, mode="none")
    assert month is not None
    Plan.objects.filter(pk=acme.plan.pk).update(api_requests_per_month=month.used)
    try:
        refused = example_run(example, env=_env(asgi_server, member.token))
    finally:
        Plan.objects.filter(pk=acme.plan.pk).update(api_requests_per_month=None)

    assert (served.returncode, served.stdout.strip()) == (0, member.email)
    assert refused.returncode == 1
    assert refused.stderr.startswith("quota api_requests used up until ")


def test_the_documented_usage_report_runs(asgi_server: Any, committed_world: World) -> None:
    result = example_run(
        doc_example(DOC, "usage-python"), env=_env(asgi_server, committed_world.acme.members["admin"].token)
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    token = f"token:{committed_world.acme.members['admin'].token_id}"
    assert any(f" {token} requests: " in line for line in lines)
    assert [line.split()[0] for line in lines[-4:]] == [
        "api_requests",
        "rows_served",
        "scenario_runs",
        "export_rows",
    ]
    assert lines[-1].endswith(" unlimited")


def test_the_documented_bodies_are_the_apis(api: Any, world: World) -> None:
    quota = quota_tenant(api_requests_per_month=2)
    plan_route_limit_set(plan=quota.plan, route="usage", requests_per_second=1, burst=1)
    api.get("/api/v2/usage", **quota.auth())
    rate = api.get("/api/v2/usage", **quota.auth()).json()
    api.get("/api/v2/me", **quota.auth())
    refused = api.get("/api/v2/me", **quota.auth()).json()
    event = OutboxEvent.objects.filter(
        tenant_schema=quota.tenant.schema_name, event_type="quota.threshold"
    ).first()

    documented_rate = json.loads(doc_example(DOC, "rate-limit-429-body").code)
    documented_quota = json.loads(doc_example(DOC, "quota-429-body").code)
    documented_event = json.loads(doc_example(DOC, "quota-threshold-event-data").code)
    for documented, real in ((documented_rate, rate), (documented_quota, refused)):
        assert sorted(documented) == sorted(real)
        assert (documented["type"], documented["title"], documented["status"]) == (
            real["type"],
            real["title"],
            real["status"],
        )
    assert refused["quota"]["metric"] == "api_requests"
    assert sorted(documented_quota["quota"]) == sorted(refused["quota"])
    assert event is not None
    assert sorted(documented_event) == sorted(event.payload)
