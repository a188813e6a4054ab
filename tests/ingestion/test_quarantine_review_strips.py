"""Releasing a held monthly row derives that day's strips of its curve again (decision 0041): the real EUGP
workbook of 2025-07-07 with crossed `bid / ask` quotes holds back Belgium's Aug-25 and Oct-25 and Dutch_TTF's
Sep-25, so the ingest derived no Q3 2025 / Q4 2025 for Belgium and no Q3 2025 for Dutch_TTF (only complete
quarters are derived). Expected strips are computed here from the month rows the curve API returns, with the
spec's rule (spec 2.1 "Derived strips": the arithmetic mean of the MONTHLY mid, bid and ask per curve and
as-of; QUARTER rows start on the quarter's first month, labelled `Q# YYYY`, price_type MID)."""

from __future__ import annotations

from statistics import fmean
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.lake import Lake, private_lake
from tests.support.quarantine import CROSSED_DAY, crossed_eugp

LIST = "/api/v2/ingest/quarantine"
Q3_2025 = ("2025-07", "2025-08", "2025-09")
Q4_2025 = ("2025-10", "2025-11", "2025-12")


@pytest.fixture
def held(world: Any, tmp_path: Any) -> Any:
    path, data = crossed_eugp()
    with private_lake(tmp_path, []) as lake:
        lake.ingest(path, data=data, file_name=path.name)
        yield lake


def _held_rows(api: Any, world: Any) -> dict[str, dict[str, Any]]:
    response = api.get(f"{LIST}?limit=100", **world.ops.auth("viewer"))
    assert response.status_code == 200, response.content
    return {r["tenor_label"]: r for r in response.json()["data"]}


def _curve(api: Any, world: Any, key: str, *, asof: bool = True) -> dict[str, Any]:
    query = f"?asof={CROSSED_DAY}" if asof else ""
    response = api.get(f"/api/v2/curves/{key}{query}", **world.acme.auth("viewer"))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _points(api: Any, world: Any, key: str, *, asof: bool = True) -> dict[str, dict[str, Any]]:
    return {p["tenor_label"]: p for p in _curve(api, world, key, asof=asof)["points"]}


def _strips(points: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {label: p for label, p in points.items() if p["is_derived"]}


def _lineage(api: Any, world: Any, key: str, tenor: str) -> dict[str, Any]:
    response = api.get(
        f"/api/v2/curves/{key}/lineage?tenor_label={quote(tenor)}&asof={CROSSED_DAY}",
        **world.acme.auth("viewer"),
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _decide(api: Any, world: Any, action: str, ids: list[int], reason: str) -> dict[str, Any]:
    response = api.post(
        f"{LIST}/{action}", {"ids": ids, "reason": reason}, format="json", **world.ops.auth("admin")
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def _expected(points: dict[str, dict[str, Any]], months: tuple[str, ...]) -> tuple[float, float, float]:
    """The spec's rule on the month rows as the API returns them."""
    rows = [points[month] for month in months]
    assert all(row["tenor_type"] == "MONTHLY" for row in rows)
    mid, bid, ask = (fmean(row[side] for row in rows) for side in ("mid", "bid", "ask"))
    return mid, bid, ask


def _values(strip: dict[str, Any]) -> tuple[float, float, float]:
    return strip["mid"], strip["bid"], strip["ask"]


def test_releasing_a_held_month_derives_its_quarter_strip_and_rejecting_changes_no_strip(
    held: Lake, api, world
):
    run = held.run_ids[0]
    held_rows = _held_rows(api, world)
    august, october = held_rows["2025-08"], held_rows["2025-10"]  # both Belgium's
    belgium = august["curve_key"]
    assert october["curve_key"] == belgium
    before = _points(api, world, belgium)
    ingest_quarter = _lineage(api, world, belgium, "Q1 2026")  # a quarter the ingest derived itself
    entry_before = _curve(api, world, belgium)["curve"]

    release = _decide(api, world, "release", [august["id"]], "vendor confirmed")
    after = _points(api, world, belgium)
    latest = _points(api, world, belgium, asof=False)
    entry_after = _curve(api, world, belgium)["curve"]
    lineage = _lineage(api, world, belgium, "Q3 2025")
    month_lineage = _lineage(api, world, belgium, "2025-08")

    reject = _decide(api, world, "reject", [october["id"]], "stale quote")
    after_reject = _quarters_read_fresh(api, world, belgium)

    # Given: the ingest derived no Q3 / Q4 2025 (a month of each was held back), but the complete quarters.
    assert "2025-08" not in before and "2025-10" not in before
    assert {"Q3 2025", "Q4 2025"} & set(before) == set()
    assert {"Q1 2026", "Calendar 2026"} <= set(_strips(before))
    # Then: the release published Aug-25 and derived Q3 2025 from Jul, Aug and Sep as the rule says.
    q3 = after["Q3 2025"]
    assert (q3["tenor_type"], q3["contract_month"], q3["price_type"], q3["is_derived"]) == (
        "QUARTER",
        "2025-07-01",
        "MID",
        True,
    )
    assert _values(q3) == pytest.approx(_expected(after, Q3_2025), rel=1e-12)
    assert after["2025-08"]["mid"] == pytest.approx(august["row"]["mid"])
    # Q4 2025 still lacks October (held); every other strip of the day is the ingest's, unchanged.
    assert "Q4 2025" not in after
    assert set(_strips(after)) == set(_strips(before)) | {"Q3 2025"}
    assert {k: _values(v) for k, v in _strips(after).items() if k != "Q3 2025"} == {
        k: _values(v) for k, v in _strips(before).items()
    }
    # The latest read (market.curve_latest) follows, strips included.
    assert _values(latest["Q3 2025"]) == _values(q3)
    assert {k: _values(v) for k, v in _strips(latest).items()} == {
        k: _values(v) for k, v in _strips(after).items()
    }
    # Lineage: the ingest's run and version hash for a quarter of this sheet, and the release that derived it.
    assert lineage["ingest_run"]["id"] == run == ingest_quarter["ingest_run"]["id"]
    assert lineage["source"]["version_hash"] == ingest_quarter["source"]["version_hash"]
    assert lineage["source"]["derived_from_monthly_points"] is True
    assert lineage["source"]["cell"] is None
    decision = release["decision"]
    assert lineage["quarantine_release"]["id"] == decision["id"]
    assert lineage["quarantine_release"]["row"] == august["id"]
    assert lineage["quarantine_release"]["snapshot_id"] == decision["snapshot_id"] is not None
    assert month_lineage["quarantine_release"]["id"] == decision["id"]
    assert ingest_quarter["quarantine_release"] is None
    # The catalog counts the vendor's tenors: one more month, the strip is not one.
    assert entry_after["tenor_count"] == entry_before["tenor_count"] + 1
    # When: October is rejected. Then: no strip of the day changes.
    assert [r["status"] for r in reject["rows"]] == ["rejected"]
    assert after_reject == {k: _values(v) for k, v in after.items() if v["tenor_type"] == "QUARTER"}


def test_one_bulk_release_derives_the_quarters_of_every_curve_it_touches(held: Lake, api, world):
    held_rows = _held_rows(api, world)
    belgium, dutch = held_rows["2025-08"]["curve_key"], held_rows["2025-09"]["curve_key"]
    before = {key: _points(api, world, key) for key in (belgium, dutch)}

    _decide(api, world, "release", [r["id"] for r in held_rows.values()], "all confirmed")
    after = {key: _points(api, world, key) for key in (belgium, dutch)}
    latest = _points(api, world, belgium, asof=False)

    assert "Q4 2025" in before[dutch] and "Q3 2025" not in before[dutch]
    assert _values(after[belgium]["Q3 2025"]) == pytest.approx(_expected(after[belgium], Q3_2025), rel=1e-12)
    assert _values(after[belgium]["Q4 2025"]) == pytest.approx(_expected(after[belgium], Q4_2025), rel=1e-12)
    assert _values(after[dutch]["Q3 2025"]) == pytest.approx(_expected(after[dutch], Q3_2025), rel=1e-12)
    assert set(_strips(after[belgium])) == set(_strips(before[belgium])) | {"Q3 2025", "Q4 2025"}
    assert set(_strips(after[dutch])) == set(_strips(before[dutch])) | {"Q3 2025"}
    assert _values(after[dutch]["Q4 2025"]) == _values(before[dutch]["Q4 2025"])
    assert _values(latest["Q4 2025"]) == _values(after[belgium]["Q4 2025"])
    # No row twice: one point per tenor on the day.
    for key in (belgium, dutch):
        labels = [p["tenor_label"] for p in _curve(api, world, key)["points"]]
        assert len(labels) == len(set(labels))


def _quarters_read_fresh(api: Any, world: Any, key: str) -> dict[str, tuple[float, float, float]]:
    """The day's QUARTER strips of ``key`` through ``/api/v2/curves/strips``: a read no earlier request of
    the test cached."""
    response = api.get(
        f"/api/v2/curves/strips?type=QUARTER&asof={CROSSED_DAY}&curve_key={key}&limit=1000",
        **world.acme.auth("viewer"),
    )
    assert response.status_code == 200, response.content
    return {p["tenor_label"]: _values(p) for p in response.json()["data"]}


def test_rejecting_a_held_month_leaves_the_day_and_its_strips_unchanged(held: Lake, api, world):
    august = _held_rows(api, world)["2025-08"]
    key = august["curve_key"]
    before = _points(api, world, key)

    _decide(api, world, "reject", [august["id"]], "stale quote")
    quarters = _quarters_read_fresh(api, world, key)
    no_strip = api.get(
        f"/api/v2/curves/{key}/lineage?tenor_label=Q3%202025&asof={CROSSED_DAY}", **world.acme.auth("viewer")
    )

    expected = {k: _values(v) for k, v in before.items() if v["tenor_type"] == "QUARTER"}
    assert "Q3 2025" not in expected and len(expected) > 30
    assert quarters == expected
    assert no_strip.status_code == 404
