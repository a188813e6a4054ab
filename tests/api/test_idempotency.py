"""Idempotency-Key on v2 POSTs (decision 0027), through the HTTP API: a replay answers the first response
byte for byte with ``Idempotent-Replayed: true`` and does nothing again; the key with another request is a
422; keys are per credential and per tenant; refused requests store nothing; answers expire after 24 hours;
a 5xx is not stored; an upload's replay makes no second ingest run."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken
from apps.ingestion.models import IngestRun
from apps.scenarios.models import Scenario
from aurum.idempotency.models import IdempotentRequest
from aurum.idempotency.services import idempotent_requests_prune
from tests.support.idempotency import FAILING_PATH, FailingView
from tests.support.workbooks import eugp_workbook
from tests.support.world import TenantWorld

KEY_REUSED = "https://aurum.dev/problems/idempotency-key-reused"
IN_FLIGHT = "https://aurum.dev/problems/idempotency-request-in-flight"
SCENARIOS = "/api/v2/scenarios"
TOKENS = "/api/v2/tokens"


def _post(
    api: Any, tenant: TenantWorld, role: str, path: str, body: Any, key: str | None, **extra: Any
) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(path, body, format="json", **tenant.auth(role), **headers, **extra)


def _scenarios(schema: str, name: str) -> list[str]:
    with schema_context(schema):
        return [
            str(pk)
            for pk in Scenario.objects.filter(name=name).order_by("created_at").values_list("pk", flat=True)
        ]


def _tokens(name: str) -> int:
    return ApiToken.objects.filter(name=name).count()


def _records(schema: str, key: str) -> list[tuple[str, int | None]]:
    with schema_context(schema):
        rows = IdempotentRequest.objects.filter(key=key).order_by("credential")
        return [(row.credential, row.response_status) for row in rows]


def test_a_replay_answers_the_first_response_byte_for_byte_and_does_nothing_again(world, api):
    body = {"name": "Replayed", "description": "made once"}

    first = _post(api, world.acme, "trader", SCENARIOS, body, "create-1")
    again = _post(api, world.acme, "trader", SCENARIOS, body, "create-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["X-Request-Id"] != first["X-Request-Id"]  # the replay is a request of its own
    assert again["Cache-Control"] == first["Cache-Control"]
    assert _scenarios("acme", "Replayed") == [first.json()["data"]["id"]]
    trader = f"token:{world.acme.members['trader'].token_id}"
    assert _records("acme", "create-1") == [(trader, 201)]


def test_the_same_json_in_another_key_order_or_spacing_is_the_same_request(world, api):
    first = _post(api, world.acme, "trader", SCENARIOS, {"name": "Ordered", "description": "d"}, "order-1")
    again = api.post(
        SCENARIOS,
        '{ "description": "d",\n  "name": "Ordered" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
        **world.acme.auth("trader"),
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert len(_scenarios("acme", "Ordered")) == 1


def test_the_same_key_with_another_request_is_a_422_and_changes_nothing(world, api):
    first = _post(api, world.acme, "admin", SCENARIOS, {"name": "Keyed"}, "reuse-1")
    other_body = _post(api, world.acme, "admin", SCENARIOS, {"name": "Keyed again"}, "reuse-1")
    other_path = _post(api, world.acme, "admin", "/api/v2/tokens", {"name": "Keyed"}, "reuse-1")
    other_query = _post(api, world.acme, "admin", f"{SCENARIOS}?dry=1", {"name": "Keyed"}, "reuse-1")

    assert first.status_code == 201
    for refused in (other_body, other_path, other_query):
        assert refused.status_code == 422
        assert refused["Content-Type"] == "application/problem+json"
        problem = refused.json()
        assert (problem["type"], problem["idempotency_key"]) == (KEY_REUSED, "reuse-1")
        assert problem["detail"] == (
            "Idempotency-Key 'reuse-1' was used for a different request (POST /api/v2/scenarios); send a new "
            "key for a new request."
        )
        assert "Idempotent-Replayed" not in refused
    assert _scenarios("acme", "Keyed again") == []
    assert len(_scenarios("acme", "Keyed")) == 1
    admin = world.acme.members["admin"]
    tokens = api.get("/api/v2/tokens", {"limit": 100}, **world.acme.auth("admin")).json()["data"]
    assert [t["name"] for t in tokens if t["name"] == "Keyed"] == []
    assert _records("acme", "reuse-1") == [(f"token:{admin.token_id}", 201)]


def test_keys_belong_to_one_credential(world, api):
    body = {"name": "Per credential"}  # tokens may share a name: the same request can be made twice

    admin = _post(api, world.acme, "admin", TOKENS, body, "shared-key")
    trader = _post(api, world.acme, "trader", TOKENS, body, "shared-key")
    admin_again = _post(api, world.acme, "admin", TOKENS, body, "shared-key")

    assert admin.status_code == trader.status_code == 201
    assert "Idempotent-Replayed" not in trader
    assert admin.json()["data"]["id"] != trader.json()["data"]["id"]
    assert admin_again["Idempotent-Replayed"] == "true" and admin_again.content == admin.content
    assert _tokens("Per credential") == 2


def test_keys_belong_to_one_tenant(world, api):
    body = {"name": "Per tenant"}

    acme = _post(api, world.acme, "admin", TOKENS, body, "tenant-key")
    globex = _post(api, world.globex, "admin", TOKENS, body, "tenant-key")

    assert acme.status_code == globex.status_code == 201
    assert "Idempotent-Replayed" not in globex
    assert acme.json()["data"]["id"] != globex.json()["data"]["id"]
    assert _tokens("Per tenant") == 2
    admin_token = f"token:{world.acme.members['admin'].token_id}"
    assert _records("acme", "tenant-key") == [(admin_token, 201)]
    assert _records("globex", "tenant-key") == [(f"token:{world.globex.members['admin'].token_id}", 201)]


def test_refused_requests_store_nothing_and_replay_nothing(world, api):
    body = {"name": "Refused"}
    stored = _post(api, world.acme, "admin", SCENARIOS, body, "refused-1")

    forbidden = _post(api, world.acme, "viewer", SCENARIOS, body, "refused-1")
    unauthenticated = api.post(
        SCENARIOS,
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="refused-1",
        HTTP_AUTHORIZATION="Bearer aurum_nope",
    )
    viewer_again = _post(api, world.acme, "viewer", SCENARIOS, body, "refused-1")

    assert stored.status_code == 201
    assert forbidden.status_code == viewer_again.status_code == 403
    assert unauthenticated.status_code == 401
    for refused in (forbidden, unauthenticated, viewer_again):
        assert "Idempotent-Replayed" not in refused and b"Refused" not in refused.content
    assert _records("acme", "refused-1") == [(f"token:{world.acme.members['admin'].token_id}", 201)]


def test_a_malformed_key_is_a_400_and_nothing_is_created(world, api):
    response = _post(api, world.acme, "trader", SCENARIOS, {"name": "Malformed"}, "not a key!")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _scenarios("acme", "Malformed") == []


def test_a_post_without_a_key_is_not_recorded(world, api):
    first = _post(api, world.acme, "trader", TOKENS, {"name": "Unkeyed"}, None)
    second = _post(api, world.acme, "trader", TOKENS, {"name": "Unkeyed"}, None)

    assert first.status_code == second.status_code == 201
    assert _tokens("Unkeyed") == 2
    with schema_context("acme"):
        assert not IdempotentRequest.objects.exists()


def test_an_answer_is_kept_24_hours_then_the_key_starts_afresh(world, api):
    body = {"name": "Expiring"}
    first = _post(api, world.acme, "trader", TOKENS, body, "day-1")
    with schema_context("acme"):
        record = IdempotentRequest.objects.get(key="day-1")
        assert record.expires_at - record.created_at == timedelta(hours=24)
        # A day later (the clock moved on: the record is as old as one stored 24 hours and a second ago).
        day = timedelta(hours=24, seconds=1)
        IdempotentRequest.objects.filter(pk=record.pk).update(
            created_at=record.created_at - day, expires_at=record.expires_at - day
        )

    later = _post(api, world.acme, "trader", TOKENS, body, "day-1")
    replayed = _post(api, world.acme, "trader", TOKENS, body, "day-1")

    assert (first.status_code, later.status_code, replayed.status_code) == (201, 201, 201)
    assert "Idempotent-Replayed" not in later and replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == later.content != first.content
    assert _tokens("Expiring") == 2


def test_pruning_removes_only_expired_answers(world, api):
    _post(api, world.acme, "trader", TOKENS, {"name": "Pruned"}, "prune-old")
    _post(api, world.acme, "trader", TOKENS, {"name": "Kept"}, "prune-new")
    with schema_context("acme"):
        IdempotentRequest.objects.filter(key="prune-old").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

        pruned = idempotent_requests_prune()

        assert pruned == 1
        assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["prune-new"]


def test_a_duplicate_while_the_first_holds_the_key_is_a_409_until_its_lease_runs_out(world, api):
    body = {"name": "Leased"}
    first = _post(api, world.acme, "trader", TOKENS, body, "lease-1")
    with schema_context("acme"):
        # As if the first attempt were still running (or had died before it answered): it holds the key.
        IdempotentRequest.objects.filter(key="lease-1").update(
            response_status=None, lease_until=timezone.now() + timedelta(minutes=5)
        )
    in_flight = _post(api, world.acme, "trader", TOKENS, body, "lease-1")
    with schema_context("acme"):
        IdempotentRequest.objects.filter(key="lease-1").update(
            lease_until=timezone.now() - timedelta(seconds=1)
        )
    after_lease = _post(api, world.acme, "trader", TOKENS, body, "lease-1")
    replayed = _post(api, world.acme, "trader", TOKENS, body, "lease-1")

    assert first.status_code == 201
    assert in_flight.status_code == 409
    assert in_flight["Retry-After"] == "1"
    assert (in_flight.json()["type"], in_flight.json()["idempotency_key"]) == (IN_FLIGHT, "lease-1")
    assert after_lease.status_code == 201 and "Idempotent-Replayed" not in after_lease
    assert replayed.content == after_lease.content and replayed["Idempotent-Replayed"] == "true"
    assert _tokens("Leased") == 2  # the retry after the lease ran out ran the request again


@pytest.mark.urls("tests.support.idempotency")
def test_a_5xx_or_an_exception_is_not_stored_so_the_retry_runs_again(world, api):
    FailingView.outcomes[:] = ["raise", "503", "ok"]
    FailingView.calls.clear()

    crashed = _post(api, world.acme, "viewer", FAILING_PATH, {"x": 1}, "flaky-1")
    unavailable = _post(api, world.acme, "viewer", FAILING_PATH, {"x": 1}, "flaky-1")
    succeeded = _post(api, world.acme, "viewer", FAILING_PATH, {"x": 1}, "flaky-1")
    replayed = _post(api, world.acme, "viewer", FAILING_PATH, {"x": 1}, "flaky-1")

    assert (crashed.status_code, unavailable.status_code, succeeded.status_code) == (500, 503, 201)
    assert "Idempotent-Replayed" not in succeeded
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert succeeded.json() == replayed.json() == {"call": 3}
    assert FailingView.calls == [1, 2, 3]


def _upload(api: Any, tenant: TenantWorld, data: bytes, name: str, key: str) -> Any:
    return api.post(
        "/api/v2/ingest/runs",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=key,
        **tenant.auth("trader"),
    )


def test_an_upload_replayed_with_its_key_makes_no_second_ingest_run(world, api):
    name = "EOD_EUGP_20240410_1430.xlsx"
    data = eugp_workbook(asof=date(2024, 4, 10))
    other = eugp_workbook(asof=date(2024, 4, 11))

    first = _upload(api, world.ops, data, name, "upload-1")
    again = _upload(api, world.ops, data, name, "upload-1")
    other_file = _upload(api, world.ops, other, name, "upload-1")  # same name, other content

    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert again["Location"] == first["Location"] == f"/api/v2/ingest/runs/{first.json()['data']['id']}"
    assert other_file.status_code == 422 and other_file.json()["type"] == KEY_REUSED
    assert list(IngestRun.objects.filter(file_name=name).values_list("pk", flat=True)) == [
        first.json()["data"]["id"]
    ]
