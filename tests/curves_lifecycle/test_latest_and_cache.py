"""Ingests that change what curve reads return: the latest table under back-fills and corrections, and the
read cache's invalidation. Each test builds its own private lakehouse (tests/curves/lake.py); they live
outside tests/curves so that package's shared lake (whose ingest runs would make these ingests no-ops, as
the same bytes) is not active."""

from __future__ import annotations

import pytest

from apps.curves import selectors
from aurum.api.read_cache import read_cache_key
from aurum.lakehouse.queries import CurveFilters
from tests.support.curves import EUGP, a_curve, parsed
from tests.support.lake import EUGP_DAYS, eod, private_lake

D1, D2, D3 = EUGP_DAYS


def test_lake_starts_empty_of_runs(world):
    """Guard: no committed ingest run of these files exists, or the ingests below would be no-ops."""
    from apps.ingestion.models import IngestRun

    names = [eod("EUGP", d).name for d in EUGP_DAYS]
    assert not IngestRun.objects.filter(file_name__in=names, status__startswith="succeeded").exists()


def test_a_corrected_latest_day_and_a_backfill_keep_the_latest_table_exact(
    committed_world, tmp_path, django_db_blocker
):
    with private_lake(tmp_path, [eod("EUGP", D1), eod("EUGP", D3)]) as lake:
        lake.ingest(eod("EUGP", D2))  # back-fill: older than the latest day, merge path
        # A "corrected" D3: D1's numbers re-published as D3 later that day (rebuild path: latest rows come
        # from D3; the later publication time makes it the day's owner, decision 0013)
        lake.ingest(eod("EUGP", D1), as_of=D3, file_name=f"EOD_EUGP_{D3:%Y%m%d}_1800.xlsx")
        filters = CurveFilters(datasets=(EUGP,))

        fast = selectors.curve_points(filters=filters).table.to_pylist()
        slow = selectors.curve_points_latest_from_vintages(filters=filters).table.to_pylist()

        assert fast == slow
        d1 = parsed("EUGP", D1)
        quoted = [r for r in fast if not r["is_derived"] and (r["curve_key"], r["tenor_label"]) in d1]
        assert quoted and all(r["asof_date"] == D3 for r in quoted)
        assert [r["mid"] for r in quoted[:200]] == pytest.approx(
            [d1[(r["curve_key"], r["tenor_label"])]["mid"] for r in quoted[:200]]
        )


def test_an_ingest_invalidates_its_dataset_and_only_it(api, committed_world, tmp_path):
    with private_lake(tmp_path, [eod("EUGP", D1)]) as lake:
        key = a_curve(day=D1)
        auth = committed_world.acme.auth("viewer")
        rp_key_before = read_cache_key(scope="s", tenant_id=1, datasets=["vendor:RP"], params={})
        eugp_key_before = read_cache_key(scope="s", tenant_id=1, datasets=["vendor:EUGP"], params={})

        before = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        cached = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        lake.ingest(eod("EUGP", D2))
        after = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]

        assert cached == before
        assert {p["asof_date"] for p in before["points"]} == {D1.isoformat()}
        assert {p["asof_date"] for p in after["points"]} == {D2.isoformat()}
        assert read_cache_key(scope="s", tenant_id=1, datasets=["vendor:RP"], params={}) == rp_key_before
        assert read_cache_key(scope="s", tenant_id=1, datasets=["vendor:EUGP"], params={}) != eugp_key_before


def test_an_uncached_one_curve_read_sees_a_day_committed_since_the_read_before(
    api, committed_world, tmp_path, settings
):
    """The pointer of the table a one-curve read scans is read with the curve's catalog row, every read
    (apps/curves/selectors.py ``curve_with_points``): nothing of an earlier read's table is reused."""
    settings.AURUM_READ_CACHE = False
    with private_lake(tmp_path, [eod("EUGP", D1)]) as lake:
        key = a_curve(day=D1)
        auth = committed_world.acme.auth("viewer")

        before = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        lake.ingest(eod("EUGP", D2))
        after = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        as_of_before = api.get(f"/api/v2/curves/{key}", {"asof": D1.isoformat()}, **auth).json()["data"]

    assert {p["asof_date"] for p in before["points"]} == {D1.isoformat()}
    assert {p["asof_date"] for p in after["points"]} == {D2.isoformat()}
    assert after["curve"]["last_asof"] == D2.isoformat()
    assert as_of_before["points"] == before["points"]
