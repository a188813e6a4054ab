"""End to end: a scenario run succeeds → its outbox event fans out → the receiver gets a verified
``scenario.run.succeeded`` with sequence 1; then catch-up, redelivery and re-enabling through the API."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from apps.webhooks.services.delivery import webhook_deliver_due
from apps.webhooks.services.messages import webhook_event_fanout
from aurum.events.models import OutboxEvent
from tenants.models import Tenant
from tests.support.scenarios import POLICY
from tests.support.webhooks import Answer, Receiver, verified


def _run_succeeds(curves) -> str:
    tenant = Tenant.objects.select_related("plan").get(schema_name="acme")
    with schema_context("acme"):
        scenario = scenario_create(
            tenant=tenant,
            name="Hooked",
            actor=None,
            assumptions=[POLICY],
            selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=curves.asof),
        )
        submitted = scenario_run_submit(tenant=tenant, scenario=scenario, options=RunOptions(), actor=None)
        run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=tenant)
    assert run is not None and run.status == "succeeded", run and run.error_message
    return str(run.pk)


def _last_event_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _relay_to_webhooks(after_id: int = 0) -> None:
    """What the outbox relay starts for each event (``AURUM_EVENT_TASKS``) recorded after ``after_id`` (other
    tests of the session may have committed acme events), then the delivery."""
    with schema_context("acme"):
        for event in OutboxEvent.objects.filter(tenant_schema="acme", id__gt=after_id).order_by("id"):
            webhook_event_fanout(event_id=str(event.event_id))
        webhook_deliver_due()


def test_a_succeeded_run_reaches_the_receiver_verified(world, endpoint_create, eugp_curves):
    with Receiver() as receiver:
        endpoint = endpoint_create(receiver.url, ["scenario.run.succeeded"])
        before = _last_event_id()
        run_id = _run_succeeds(eugp_curves)
        _relay_to_webhooks(before)

    [received] = receiver.received  # queued and started are not subscribed
    body = verified(endpoint["secret"], received)
    assert (body["type"], body["sequence"], body["tenant"]) == ("scenario.run.succeeded", 1, "acme")
    assert (body["data"]["run_id"], body["data"]["status"]) == (run_id, "succeeded")
    assert body["data"]["url"] == f"/api/v2/scenario-runs/{run_id}"


def test_catch_up_redeliver_and_enable_through_the_api(world, api, endpoint_create):
    auth = world.acme.auth("admin")
    with Receiver(Answer(status=500), Answer(status=500)) as receiver:
        endpoint = endpoint_create(receiver.url)
        base = f"/api/v2/webhooks/{endpoint['id']}"
        for _ in range(3):
            assert api.post(f"{base}/ping", **auth).status_code == 202
        with schema_context("acme"):
            webhook_deliver_due()  # 1 fails (500): the endpoint backs off, 2 and 3 wait with it
        caught_up = api.get(f"{base}/events?after_sequence=1&limit=1", **auth)
        next_page = api.get(caught_up.json()["links"]["next"], **auth)
        deliveries = api.get(f"{base}/deliveries", **auth)
        [attempt] = deliveries.json()["data"]
        redelivered = api.post(f"{base}/deliveries/{attempt['id']}/redeliver", **auth)
        with schema_context("acme"):
            webhook_deliver_due()  # 1 again: 500 again
        paused = api.patch(base, {"enabled": False}, format="json", **auth)
        enabled = api.post(f"{base}/enable", **auth)
        with schema_context("acme"):
            webhook_deliver_due()  # everything held is due now: 1, 2, 3 delivered in order
        after = api.get(f"{base}/events", **auth)

    assert [m["sequence"] for m in caught_up.json()["data"]] == [2]
    assert [m["sequence"] for m in next_page.json()["data"]] == [3]
    assert caught_up.json()["data"][0]["payload"]["type"] == "webhook.ping"
    assert (attempt["sequence"], attempt["status_code"], attempt["outcome"]) == (1, 500, "retry")
    assert redelivered.status_code == 202 and redelivered.json()["data"]["state"] == "pending"
    assert paused.json()["data"]["enabled"] is False
    assert enabled.status_code == 200 and enabled.json()["data"]["enabled"] is True
    assert [m["state"] for m in after.json()["data"]] == ["succeeded"] * 3
    assert [r.json()["sequence"] for r in receiver.received] == [1, 1, 1, 2, 3]
