"""Quarantine review of feed rows through the API: the operators list the rows a contract's rules held back
with the reasons, release one (it is published to the lakehouse) or reject one (it stays out), each decision
audited once; customers and read-only credentials change nothing."""

from __future__ import annotations

import json

import httpx
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.feeds.models import FeedQuarantineRow
from tests.support.feeds import fetch_recorded

BAD = [("2024-04-29", "4.61"), ("2024-04-30", "4.69"), ("2024-04-30", "4.70"), ("2024-05-01", "-250")]


def _fetch_with_bad_rows() -> None:
    body = {"count": len(BAD), "observations": [{"date": d, "value": v} for d, v in BAD]}
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=json.dumps(body).encode()))
    fetch_recorded("FRED", "DGS10", transport=transport)


def _stored() -> list[tuple[str, float]]:
    from aurum.lakehouse.catalog import get_catalog

    rows = get_catalog().load_table("market.series_observation").scan().to_arrow().to_pylist()
    return sorted((r["period"], r["value"]) for r in rows)


def test_operators_review_held_rows_release_publishes_and_reject_keeps_out(world, api, feed_lake):
    _fetch_with_bad_rows()
    listed = api.get("/api/v2/feeds/quarantine?limit=10", **world.ops.auth("viewer"))
    rows = {(r["row"]["period"], r["row"]["value"]): r for r in listed.json()["data"]}
    out_of_range, duplicate = rows[("2024-05-01", -250.0)], rows[("2024-04-30", 4.69)]

    released = api.post(f"/api/v2/feeds/quarantine/{out_of_range['id']}/release", **world.ops.auth("admin"))
    rejected = api.post(f"/api/v2/feeds/quarantine/{duplicate['id']}/reject", **world.ops.auth("admin"))
    twice = api.post(f"/api/v2/feeds/quarantine/{out_of_range['id']}/reject", **world.ops.auth("admin"))
    held = api.get("/api/v2/feeds/quarantine?status=held", **world.ops.auth("viewer"))

    assert listed.status_code == 200
    assert sorted((k, r["reasons"]) for k, r in rows.items()) == [
        (("2024-04-30", 4.69), ["unique_key"]),
        (("2024-04-30", 4.7), ["unique_key"]),
        (("2024-05-01", -250.0), ["value_in_range"]),
    ]
    assert (released.status_code, released.json()["data"]["status"]) == (200, "released")
    assert released.json()["data"]["decided_by"] == "admin@ops.example"
    assert (rejected.status_code, rejected.json()["data"]["status"]) == (200, "rejected")
    assert twice.status_code == 409
    assert [r["row"]["value"] for r in held.json()["data"]] == [4.7]
    assert _stored() == [("2024-04-29", 4.61), ("2024-05-01", -250.0)]  # the released row, not the rejected
    with schema_context("ops"):
        actions = sorted(
            AuditEntry.objects.filter(action__startswith="feed_quarantine.").values_list("action", flat=True)
        )
    assert actions == ["feed_quarantine.reject", "feed_quarantine.release"]


def test_customers_and_read_only_credentials_change_nothing(world, api, feed_lake):
    _fetch_with_bad_rows()
    row = FeedQuarantineRow.objects.filter(provider="FRED").order_by("id").first()
    assert row is not None

    customer_list = api.get("/api/v2/feeds/quarantine", **world.acme.auth("admin"))
    customer = api.post(f"/api/v2/feeds/quarantine/{row.pk}/release", **world.acme.auth("admin"))
    viewer = api.post(f"/api/v2/feeds/quarantine/{row.pk}/release", **world.ops.auth("viewer"))
    bad_filter = api.get("/api/v2/feeds/quarantine?status=maybe", **world.ops.auth("viewer"))

    assert (customer_list.status_code, customer.status_code, viewer.status_code) == (403, 404, 403)
    assert bad_filter.status_code == 400
    assert set(FeedQuarantineRow.objects.values_list("status", flat=True)) == {"held"}
    assert _stored() == [("2024-04-29", 4.61)]
