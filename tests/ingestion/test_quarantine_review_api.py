"""Quarantine review of vendor workbook rows through ``/api/v2/ingest/quarantine`` (decision 0041): the real
EUGP workbook of 2025-07-07 with three `bid / ask` quotes crossed holds three rows back; the operators list
them, release some (the curve read API then returns them, with lineage to the run and the release) and reject
others; decided rows answer 409; customers and read-only credentials change nothing."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.ingestion.models import CurveQuarantineRelease, CurveQuarantineRow
from tests.support.lake import Lake, eod, private_lake
from tests.support.quarantine import CROSSED_DAY, crossed_eugp, crossed_workbook

LIST = "/api/v2/ingest/quarantine"


@pytest.fixture
def held(world: Any, tmp_path: Any) -> Any:
    path, data = crossed_eugp()
    with private_lake(tmp_path, []) as lake:
        lake.ingest(path, data=data, file_name=path.name)
        yield lake


def _rows(api: Any, world: Any, query: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    response = api.get(f"{LIST}?limit=100{query}", **world.ops.auth("viewer"))
    assert response.status_code == 200, response.content
    return {(r["curve_key"], r["tenor_label"]): r for r in response.json()["data"]}


def _history(api: Any, world: Any, key: str, tenor: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v2/curves/{key}/history?tenor_label={tenor}", **world.acme.auth("viewer"))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _quote(row: dict[str, Any]) -> tuple[float, float]:
    return row["row"]["bid"], row["row"]["ask"]


def test_operators_list_release_and_reject_held_vendor_rows(held: Lake, api, world):
    run = held.run_ids[0]
    rows = _rows(api, world, f"&run={run}&vendor=EUGP&as_of={CROSSED_DAY}")
    by_tenor = {tenor: row for (_, tenor), row in rows.items()}
    release, reject = by_tenor["2025-08"], by_tenor["2025-09"]
    before = _history(api, world, release["curve_key"], "2025-08")

    released = api.post(
        f"{LIST}/{release['id']}/release",
        {"reason": "vendor confirmed"},
        format="json",
        **world.ops.auth("admin"),
    )
    rejected = api.post(
        f"{LIST}/{reject['id']}/reject", {"reason": "stale quote"}, format="json", **world.ops.auth("admin")
    )
    again = api.post(
        f"{LIST}/{release['id']}/release", {"reason": "again"}, format="json", **world.ops.auth("admin")
    )
    reject_released = api.post(
        f"{LIST}/{release['id']}/reject", {"reason": "no"}, format="json", **world.ops.auth("admin")
    )
    after = _history(api, world, release["curve_key"], "2025-08")
    rejected_read = _history(api, world, reject["curve_key"], "2025-09")
    lineage = api.get(
        f"/api/v2/curves/{release['curve_key']}/lineage?tenor_label=2025-08&asof={CROSSED_DAY}",
        **world.acme.auth("viewer"),
    )
    still_held = _rows(api, world, "&status=held")

    # Three crossed quotes, each held back with the spec's rule names, as the fixture's cells say.
    assert sorted((tenor, _quote(r), r["reasons"]) for tenor, r in by_tenor.items()) == [
        ("2025-08", (33.652, 33.301), ["ask_ge_bid", "mid_within_bid_ask"]),
        ("2025-09", (34.925, 34.491), ["ask_ge_bid", "mid_within_bid_ask"]),
        ("2025-10", (34.766, 34.273), ["ask_ge_bid", "mid_within_bid_ask"]),
    ]
    assert {r["run"] for r in rows.values()} == {run} and {r["status"] for r in rows.values()} == {"held"}
    assert before == []
    assert released.status_code == 200, released.content
    decision = released.json()["data"]["decision"]
    assert (decision["action"], decision["decided_by"], decision["reason"]) == (
        "release",
        "admin@ops.example",
        "vendor confirmed",
    )
    assert [r["status"] for r in released.json()["data"]["rows"]] == ["released"]
    assert (rejected.status_code, rejected.json()["data"]["rows"][0]["status"]) == (200, "rejected")
    assert (again.status_code, reject_released.status_code) == (409, 409)
    assert again["Content-Type"] == "application/problem+json"
    # The curve read API returns the released row (its Mid-sheet value), not the rejected one.
    assert [(r["asof_date"], r["bid"], r["ask"]) for r in after] == [
        (CROSSED_DAY.isoformat(), 33.652, 33.301)
    ]
    assert after[0]["mid"] == pytest.approx(release["row"]["mid"])
    assert rejected_read == []
    data = lineage.json()["data"]
    assert data["ingest_run"]["id"] == run
    assert data["source"]["cell"] == "C13"
    assert (data["quarantine_release"]["id"], data["quarantine_release"]["reason"]) == (
        decision["id"],
        "vendor confirmed",
    )
    assert data["quarantine_release"]["snapshot_id"] == decision["snapshot_id"] is not None
    assert [r["tenor_label"] for r in still_held.values()] == ["2025-10"]
    with schema_context("ops"):
        audited = list(
            AuditEntry.objects.filter(action__startswith="curve_quarantine.")
            .order_by("sequence")
            .values_list("action", "changes")
        )
    changes = [(action, json.loads(c) if isinstance(c, str) else c) for action, c in audited]
    assert [(a, c["rows"], c["reason"]) for a, c in changes] == [
        ("curve_quarantine.release", [release["id"]], "vendor confirmed"),
        ("curve_quarantine.reject", [reject["id"]], "stale quote"),
    ]


def test_bulk_release_publishes_every_row_in_one_commit_or_none(held: Lake, api, world):
    rows = list(_rows(api, world).values())
    ids = [r["id"] for r in rows]
    decided = api.post(f"{LIST}/{ids[0]}/reject", {"reason": "r"}, format="json", **world.ops.auth("admin"))

    refused = api.post(
        f"{LIST}/release", {"ids": ids, "reason": "all"}, format="json", **world.ops.auth("admin")
    )
    nothing = [_history(api, world, r["curve_key"], r["tenor_label"]) for r in rows[1:]]
    bulk = api.post(
        f"{LIST}/release", {"ids": ids[1:], "reason": "rest"}, format="json", **world.ops.auth("admin")
    )
    published = [_history(api, world, r["curve_key"], r["tenor_label"]) for r in rows[1:]]

    assert decided.status_code == 200
    assert refused.status_code == 409 and f"row {ids[0]} is rejected" in refused.json()["detail"]
    assert nothing == [[], []]  # the refused bulk wrote nothing
    assert bulk.status_code == 200, bulk.content
    assert sorted(r["id"] for r in bulk.json()["data"]["rows"]) == sorted(ids[1:])
    assert [[(p["bid"], p["ask"]) for p in history] for history in published] == [
        [_quote(r)] for r in rows[1:]
    ]
    assert CurveQuarantineRelease.objects.filter(action="release").count() == 1


def test_one_release_publishes_the_same_curve_and_tenor_held_on_two_days(world, api, tmp_path):
    """The duplicate check is per day: Belgium Aug-25 held back on 2025-07-07 and again on 2025-07-08 are two
    points, so one bulk release publishes both (a check per (curve_key, tenor_label) across days said 409)."""
    days = (CROSSED_DAY, date(2025, 7, 8))
    with private_lake(tmp_path, []) as lake:
        for day in days:
            path = eod("EUGP", day)
            lake.ingest(path, data=crossed_workbook(path, ["C13"]), file_name=path.name)
        listed = api.get(f"{LIST}?limit=100&status=held", **world.ops.auth("viewer"))
        held = sorted(listed.json()["data"], key=lambda r: r["asof_date"])
        key = held[0]["curve_key"]
        before = _history(api, world, key, "2025-08")

        released = api.post(
            f"{LIST}/release",
            {"ids": [r["id"] for r in held], "reason": "both days confirmed"},
            format="json",
            **world.ops.auth("admin"),
        )
        history = sorted(_history(api, world, key, "2025-08"), key=lambda r: r["asof_date"])

    # One row a day, the same curve and tenor, each from its own day's run.
    assert [(r["asof_date"], r["curve_key"], r["tenor_label"], r["run"]) for r in held] == [
        (day.isoformat(), key, "2025-08", run) for day, run in zip(days, lake.run_ids, strict=True)
    ]
    assert before == []
    assert released.status_code == 200, released.content  # one decision for both rows
    assert [(r["asof_date"], r["status"]) for r in released.json()["data"]["rows"]] == [
        ("2025-07-07", "released"),
        ("2025-07-08", "released"),
    ]
    # Each day's crossed quote (bid and ask swapped in C13) is published on its own day.
    assert [(h["asof_date"], h["bid"], h["ask"]) for h in history] == [
        ("2025-07-07", 33.652, 33.301),
        ("2025-07-08", 34.078, 33.728),
    ]


def test_filters_paging_and_bad_input_are_problems_that_change_nothing(held: Lake, api, world):
    row = CurveQuarantineRow.objects.order_by("id").first()
    assert row is not None
    ops_admin, ops_viewer = world.ops.auth("admin"), world.ops.auth("viewer")
    first = api.get(f"{LIST}?limit=2&dataset=vendor:EUGP", **ops_viewer)
    second = api.get(first.json()["links"]["next"], **ops_viewer)
    foreign_cursor = api.get(
        f"{LIST}?dataset=vendor:RP&cursor={first.json()['meta']['next_cursor']}", **ops_viewer
    )
    other_day = api.get(f"{LIST}?as_of=2025-07-08", **ops_viewer)
    other_vendor = api.get(f"{LIST}?vendor=RP", **ops_viewer)
    bad = [
        api.get(f"{LIST}?status=maybe", **ops_viewer),
        api.get(f"{LIST}?as_of=07/07/2025", **ops_viewer),
        api.get(f"{LIST}?run=x", **ops_viewer),
        api.get(f"{LIST}?dataset=vendor:EUGP&vendor=RP", **ops_viewer),
        api.post(f"{LIST}/{row.pk}/release", {}, format="json", **ops_admin),
        api.post(f"{LIST}/{row.pk}/release", {"reason": "x" * 1001}, format="json", **ops_admin),
        api.post(f"{LIST}/{row.pk}/release", {"reason": "x", "force": True}, format="json", **ops_admin),
        api.post(f"{LIST}/release", {"ids": [], "reason": "x"}, format="json", **ops_admin),
        api.post(f"{LIST}/release", {"ids": list(range(1, 502)), "reason": "x"}, format="json", **ops_admin),
        api.post(f"{LIST}/reject", {"ids": ["a"], "reason": "x"}, format="json", **ops_admin),
    ]
    unknown = api.post(
        f"{LIST}/reject", {"ids": [row.pk, 999_999_999], "reason": "x"}, format="json", **ops_admin
    )

    assert [len(first.json()["data"]), len(second.json()["data"])] == [2, 1]
    assert first.json()["data"][0]["id"] == row.pk and second.json()["links"].get("next") is None
    assert foreign_cursor.status_code == 400
    assert (other_day.json()["data"], other_vendor.json()["data"]) == ([], [])
    assert [r.status_code for r in bad] == [400] * len(bad)
    assert {r["Content-Type"] for r in bad} == {"application/problem+json"}
    assert unknown.status_code == 404 and "999999999" in unknown.json()["detail"]
    assert set(CurveQuarantineRow.objects.values_list("status", flat=True)) == {"held"}
    assert not CurveQuarantineRelease.objects.exists()


def test_customers_and_read_only_credentials_change_nothing(held: Lake, api, world):
    row = CurveQuarantineRow.objects.order_by("id").first()
    assert row is not None
    body = {"reason": "x"}

    customer_list = api.get(LIST, **world.acme.auth("admin"))
    customer_one = api.post(f"{LIST}/{row.pk}/release", body, format="json", **world.acme.auth("admin"))
    customer_bulk = api.post(
        f"{LIST}/release", {"ids": [row.pk], **body}, format="json", **world.acme.auth("admin")
    )
    viewer = api.post(f"{LIST}/{row.pk}/release", body, format="json", **world.ops.auth("viewer"))
    viewer_bulk = api.post(
        f"{LIST}/reject", {"ids": [row.pk], **body}, format="json", **world.ops.auth("viewer")
    )

    assert (customer_list.status_code, customer_one.status_code, customer_bulk.status_code) == (403, 404, 403)
    assert (viewer.status_code, viewer_bulk.status_code) == (403, 403)
    assert set(CurveQuarantineRow.objects.values_list("status", flat=True)) == {"held"}
    assert _history(api, world, row.curve_key, row.tenor_label) == []


def test_a_later_workbook_of_the_day_supersedes_the_held_rows(held: Lake, api, world):
    first_run = held.run_ids[0]
    path = eod("EUGP", CROSSED_DAY)
    held.ingest(path, data=crossed_workbook(path, ["E12"]), file_name=path.name.replace("1430", "1500"))
    old = CurveQuarantineRow.objects.filter(run_id=first_run).order_by("id").first()
    assert old is not None

    refused = api.post(f"{LIST}/{old.pk}/release", {"reason": "x"}, format="json", **world.ops.auth("admin"))
    now_held = _rows(api, world, "&status=held")

    assert refused.status_code == 409 and "superseded" in refused.json()["detail"]
    assert set(CurveQuarantineRow.objects.filter(run_id=first_run).values_list("status", flat=True)) == {
        "superseded"
    }
    assert [(r["run"], r["row"]["bid_ask_cell"]) for r in now_held.values()] == [(held.run_ids[1], "E12")]


def test_two_operators_releasing_the_same_rows_at_once_publish_them_once(committed_world, api, tmp_path):
    world = committed_world
    path, data = crossed_eugp()
    with private_lake(tmp_path, []) as lake:
        try:
            lake.ingest(path, data=data, file_name=path.name)
            ids = sorted(
                CurveQuarantineRow.objects.filter(run_id=lake.run_ids[0]).values_list("pk", flat=True)
            )
            barrier = threading.Barrier(2, timeout=30)
            answers: list[int] = []
            errors: list[BaseException] = []

            def operator() -> None:
                from rest_framework.test import APIClient

                try:
                    barrier.wait()
                    response = APIClient().post(
                        f"{LIST}/release",
                        {"ids": ids, "reason": "race"},
                        format="json",
                        **world.ops.auth("admin"),
                    )
                    answers.append(response.status_code)
                except BaseException as exc:  # reported by the assertion below
                    errors.append(exc)
                finally:
                    connection.close()

            threads = [threading.Thread(target=operator) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            rows = CurveQuarantineRow.objects.filter(pk__in=ids)
            histories = [_history(api, world, row.curve_key, row.tenor_label) for row in rows]

            assert errors == []
            assert sorted(answers) == [200, 409]
            assert set(rows.values_list("status", flat=True)) == {"released"}
            assert CurveQuarantineRelease.objects.filter(rows__pk__in=ids).distinct().count() == 1
            assert [len(history) for history in histories] == [1, 1, 1]  # each row published once
        finally:
            decisions = list(CurveQuarantineRelease.objects.filter(rows__run_id__in=lake.run_ids).distinct())
            CurveQuarantineRow.objects.filter(run_id__in=lake.run_ids).delete()
            for decision in decisions:
                decision.delete()


def test_a_page_of_the_list_costs_the_same_queries_whatever_its_size(held: Lake, api, world):
    from django.db import connection as default
    from django.test.utils import CaptureQueriesContext

    auth = world.ops.auth("viewer")
    api.get(f"{LIST}?limit=1", **auth)  # a token's first request of the minute stamps its last_used_at
    counts = []
    for limit in (1, 3):
        with CaptureQueriesContext(default) as queries:
            response = api.get(f"{LIST}?limit={limit}&vendor=EUGP", **auth)
        assert len(response.json()["data"]) == limit
        counts.append(len(queries))

    # 1 authenticates (the token with its member, tenant and plan; the tenant's search_path is set already,
    # decision 0057), then the page of rows with their decisions.
    assert counts == [2, 2]


def test_the_rows_of_a_run_published_before_the_review_are_registered_by_the_command(held: Lake, api, world):
    from io import StringIO

    from django.core.management import call_command

    CurveQuarantineRow.objects.all().delete()  # as a run published before the review existed
    out = StringIO()
    call_command("quarantine_register", stdout=out)
    again = StringIO()
    call_command("quarantine_register", stdout=again)
    rows = _rows(api, world, "&status=held")

    assert sorted(r["row"]["bid_ask_cell"] for r in rows.values()) == ["C13", "C15", "D14"]
    assert {r["run"] for r in rows.values()} == {held.run_ids[0]}
    assert out.getvalue().splitlines()[-1] == "3 rows registered for review"
    assert again.getvalue().splitlines() == ["0 rows registered for review"]
