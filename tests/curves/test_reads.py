"""The read semantics on real ingested days (EUGP 1-3 July 2025, RP 1-2 July 2025), checked against the
workbooks themselves as parsed, not against the read path's own output."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.curves import selectors
from aurum.lakehouse.queries import CurveFilters
from tests.support.curves import BOTH, D1, D2, D3, EUGP, RP, a_curve, parsed
from tests.support.lake import EUGP_DAYS, RP_DAYS


def _key_rows(result: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["curve_key"], r["tenor_label"]): r for r in result.table.to_pylist()}


def test_latest_is_the_newest_vintage_of_every_tenor(read_world):
    result = selectors.curve_points(filters=CurveFilters(datasets=BOTH))
    rows = _key_rows(result)

    eugp = {k: r for k, r in rows.items() if r["dataset"] == EUGP and not r["is_derived"]}
    rp = {k: r for k, r in rows.items() if r["dataset"] == RP and not r["is_derived"]}
    assert {r["asof_date"] for r in eugp.values()} == {D3}
    assert {r["asof_date"] for r in rp.values()} == {RP_DAYS[-1]}
    expected = parsed("EUGP", D3)
    assert set(eugp) == {k for k in expected if k in eugp}  # every row returned is one the workbook has
    for key, row in list(eugp.items())[:500]:
        assert row["mid"] == pytest.approx(expected[key]["mid"])


def test_latest_table_gives_what_ranking_every_vintage_gives_and_opens_one_file(read_world):
    key = a_curve()
    filters = CurveFilters(datasets=BOTH, curve_keys=(key,))

    fast = selectors.curve_points(filters=filters)
    slow = selectors.curve_points_latest_from_vintages(filters=filters)

    assert fast.table.to_pylist() == slow.table.to_pylist()
    assert fast.table.num_rows >= 12
    assert fast.files_scanned == 1
    assert slow.files_scanned == len(EUGP_DAYS)


@pytest.mark.parametrize("vintage", [{}, {"asof": D2}, {"as_known_at": D2}])
def test_a_read_of_some_columns_returns_those_columns_of_the_same_rows(read_world, vintage):
    key = a_curve(day=D2)
    served = ("mid", "tenor_label", "curve_key", "asof_date")  # any order: returned in the table's order
    whole = selectors.curve_points(filters=CurveFilters(datasets=BOTH, curve_keys=(key,)), **vintage)
    some = selectors.curve_points(
        filters=CurveFilters(datasets=BOTH, curve_keys=(key,), columns=served), **vintage
    )

    assert some.table.column_names == [n for n in whole.table.column_names if n in served]
    assert len(whole.table.column_names) > len(served)
    assert some.table.num_rows == whole.table.num_rows > 0
    assert some.table.to_pylist() == whole.table.select(some.table.column_names).to_pylist()


def test_a_read_of_a_column_the_tables_lack_is_refused(read_world):
    with pytest.raises(ValueError, match="not columns of the curve tables"):
        selectors.curve_points(filters=CurveFilters(datasets=BOTH, columns=("mid", "password")))


def test_asof_is_that_vintage_exactly(read_world):
    key = a_curve(day=D2)
    result = selectors.curve_points(filters=CurveFilters(datasets=BOTH, curve_keys=(key,)), asof=D2)

    rows = _key_rows(result)
    expected = {k: r for k, r in parsed("EUGP", D2).items() if k[0] == key}
    quoted = {k: r for k, r in rows.items() if not r["is_derived"]}
    assert set(quoted) == set(expected)
    assert all(r["asof_date"] == D2 for r in rows.values())
    assert [quoted[k]["mid"] for k in sorted(quoted)] == pytest.approx(
        [expected[k]["mid"] for k in sorted(quoted)]
    )


def test_as_known_at_is_the_latest_vintage_on_or_before_the_date(read_world):
    key = a_curve()
    filters = CurveFilters(datasets=BOTH, curve_keys=(key,))

    known_d2 = selectors.curve_points(filters=filters, as_known_at=D2)
    known_later = selectors.curve_points(filters=filters, as_known_at=date(2025, 12, 31))
    known_before = selectors.curve_points(filters=filters, as_known_at=date(2025, 6, 30))

    assert {r["asof_date"] for r in known_d2.table.to_pylist()} == {D2}
    assert known_later.table.to_pylist() == selectors.curve_points(filters=filters).table.to_pylist()
    assert known_before.table.num_rows == 0


def test_diff_is_b_minus_a_per_tenor(read_world):
    key = a_curve(day=D2)
    result = selectors.curve_diff_points(
        filters=CurveFilters(datasets=BOTH, curve_keys=(key,)), asof_a=D1, asof_b=D2
    )

    a, b = parsed("EUGP", D1), parsed("EUGP", D2)
    common = sorted(k for k in a if k[0] == key and k in b)
    rows = {(r["curve_key"], r["tenor_label"]): r for r in result.table.to_pylist()}
    quoted = [k for k in common if k in rows]
    assert len(quoted) == len(common) > 0
    for k in quoted:
        mid_a, mid_b = a[k]["mid"], b[k]["mid"]
        if mid_a is None or mid_b is None:
            continue
        assert rows[k]["diff_abs"] == pytest.approx(mid_b - mid_a)
        if mid_a != 0:
            assert rows[k]["diff_pct"] == pytest.approx((mid_b - mid_a) / mid_a)


def test_movers_rank_the_largest_absolute_moves_of_all_curves(read_world):
    top = selectors.curve_movers(filters=CurveFilters(datasets=(EUGP,)), asof_a=D1, asof_b=D2, top=10)

    a, b = parsed("EUGP", D1), parsed("EUGP", D2)
    moves = sorted(
        (
            abs(b[k]["mid"] - a[k]["mid"])
            for k in a
            if k in b and a[k]["mid"] is not None and b[k]["mid"] is not None
        ),
        reverse=True,
    )
    got = [abs(r["diff_abs"]) for r in top.table.to_pylist()]
    # derived strips move too, so the top moves are at least the quoted ones' top moves
    assert len(got) == 10
    assert got == sorted(got, reverse=True)
    assert got[0] >= moves[0] - 1e-9


def test_unlicensed_datasets_are_invisible(read_world):
    only_eugp = selectors.curve_points(filters=CurveFilters(datasets=(EUGP,)))
    nothing = selectors.curve_points(filters=CurveFilters(datasets=()))
    rp_key = a_curve("RP", RP_DAYS[-1])
    asking_for_rp = selectors.curve_points(filters=CurveFilters(datasets=(EUGP,), curve_keys=(rp_key,)))

    assert {r["dataset"] for r in only_eugp.table.to_pylist()} == {EUGP}
    assert nothing.table.num_rows == 0
    assert asking_for_rp.table.num_rows == 0


def test_dimension_values_count_curves_and_respect_entitlement_and_prefix(read_world):
    every = selectors.curve_dimension_values(filters=CurveFilters(datasets=BOTH))
    eugp = selectors.curve_dimension_values(filters=CurveFilters(datasets=(EUGP,)))

    expected_curves: dict[str, set[str]] = {}
    for (key, _), row in parsed("EUGP", D3).items():
        if row["iso"]:
            expected_curves.setdefault(row["iso"], set()).add(key)
    counted = dict(eugp["iso"])
    for iso, keys in expected_curves.items():
        assert counted[iso] >= len(keys)  # D1/D2 may add curves absent on D3
    assert len(every["asset_class"]) >= len(eugp["asset_class"])
    first = eugp["location"][0][0]
    prefixed = selectors.curve_dimension_values(
        filters=CurveFilters(datasets=(EUGP,)), prefix=first[:3].lower()
    )
    assert prefixed["location"] and all(
        v.lower().startswith(first[:3].lower()) for v, _ in prefixed["location"]
    )
    limited = selectors.curve_dimension_values(filters=CurveFilters(datasets=BOTH), per_dim_limit=1)
    assert all(len(values) <= 1 for values in limited.values())
