"""The curve catalog is written from each published slice in one statement (decision 0058): a new curve is
inserted, a known one merged. The as-of range widens, sheet names are the union sorted by code point, the
tenor count (quoted tenors only, derived strips left out) and the identity are the newest slice's, and a
slice older than the catalogued one arriving late leaves the tenor count and last as-of as they were."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from apps.curves.models import Curve
from apps.curves.services import curve_catalog_upsert

# A published slice's identity and attribute columns (what the catalog keeps of a curve's first row).
IDENTITY = ("asset_class", "iso", "region", "location", "market", "product", "block", "spark_location")
ATTRIBUTES = ("commodity", "unit_note", "vendor_region", "units_raw", "currency", "per_unit")


def _slice(asof: date, rows: list[dict[str, Any]]) -> pa.Table:
    """A published slice: per row a curve key, tenor, sheet and whether it is derived; identity and
    attributes from the row (``location`` and ``units_raw`` given, the rest blank or None)."""
    columns: dict[str, list[Any]] = {name: [] for name in ("curve_key", "tenor_label", "sheet_name")}
    columns |= {"asof_date": [], "is_derived": []}
    columns |= {name: [] for name in IDENTITY + ATTRIBUTES}
    for row in rows:
        for name in columns:
            columns[name].append(row.get(name, asof if name == "asof_date" else None))
    columns["is_derived"] = [bool(v) for v in columns["is_derived"]]
    columns["asset_class"] = ["power" if v is None else v for v in columns["asset_class"]]
    return pa.table(columns)


def _tenors(key: str, labels: list[str], sheet: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"curve_key": key, "tenor_label": label, "sheet_name": sheet, **extra} for label in labels]


@pytest.fixture
def catalogued(db) -> dict[str, Curve]:
    first = _slice(
        date(2025, 9, 10),
        _tenors("k1", ["2025-10", "2025-11", "2025-12"], "Zeta", location="Berlin", units_raw="EUR/MWh")
        + _tenors("k1", ["Q4-25"], "Zeta", is_derived=True)
        + _tenors("k2", ["2025-10"], "Émile", location=None),
    )
    assert curve_catalog_upsert(published=first, dataset="vendor:EUGP", vendor="EUGP") == 2
    return {curve.curve_key: curve for curve in Curve.objects.filter(curve_key__in=["k1", "k2"])}


def test_new_curves_are_inserted_from_their_quoted_rows(catalogued):
    k1, k2 = catalogued["k1"], catalogued["k2"]

    assert (k1.dataset, k1.vendor, k1.asset_class, k1.location, k1.units_raw) == (
        "vendor:EUGP",
        "EUGP",
        "power",
        "Berlin",
        "EUR/MWh",
    )
    assert k1.tenor_count == 3  # the derived Q4-25 strip is not a quoted tenor
    assert k1.first_asof == k1.last_asof == date(2025, 9, 10)
    assert k1.sheet_names == ["Zeta"]
    assert (k2.location, k2.market, k2.tenor_count, k2.sheet_names) == ("", "", 1, ["Émile"])


def test_a_later_slice_moves_the_range_and_takes_its_tenor_count_and_identity(catalogued):
    later = _slice(
        date(2025, 9, 11),
        _tenors("k1", ["2025-11", "2025-12"], "alpha", location="Berlin-Mitte", units_raw="EUR/MWh"),
    )

    assert curve_catalog_upsert(published=later, dataset="vendor:EUGP", vendor="EUGP") == 1

    k1 = Curve.objects.get(curve_key="k1")
    assert (k1.first_asof, k1.last_asof, k1.tenor_count) == (date(2025, 9, 10), date(2025, 9, 11), 2)
    assert k1.location == "Berlin-Mitte"
    assert k1.sheet_names == sorted({"Zeta", "alpha"}) == ["Zeta", "alpha"]  # code point order
    assert Curve.objects.get(curve_key="k2").last_asof == date(2025, 9, 10)  # not in the slice: untouched


def test_an_older_slice_arriving_late_widens_the_range_but_keeps_the_latest_count(catalogued):
    older = _slice(
        date(2025, 9, 8),
        _tenors("k1", ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01"], "Ärger", location="Berlin"),
    )

    curve_catalog_upsert(published=older, dataset="vendor:EUGP", vendor="EUGP")

    k1 = Curve.objects.get(curve_key="k1")
    assert (k1.first_asof, k1.last_asof, k1.tenor_count) == (date(2025, 9, 8), date(2025, 9, 10), 3)
    assert k1.sheet_names == sorted({"Zeta", "Ärger"})


def test_the_same_slice_twice_changes_nothing_but_the_update_time(catalogued):
    again = _slice(
        date(2025, 9, 10),
        _tenors("k1", ["2025-10", "2025-11", "2025-12"], "Zeta", location="Berlin", units_raw="EUR/MWh")
        + _tenors("k2", ["2025-10"], "Émile"),
    )
    fields = ["location", "units_raw", "sheet_names", "first_asof", "last_asof", "tenor_count"]
    before = list(Curve.objects.filter(curve_key__in=["k1", "k2"]).order_by("curve_key").values(*fields))

    curve_catalog_upsert(published=again, dataset="vendor:EUGP", vendor="EUGP")

    after = list(Curve.objects.filter(curve_key__in=["k1", "k2"]).order_by("curve_key").values(*fields))
    assert after == before


def test_a_slice_of_derived_rows_only_writes_nothing(db):
    derived = _slice(date(2025, 9, 10), _tenors("k9", ["Q4-25"], "S", is_derived=True))

    assert curve_catalog_upsert(published=derived, dataset="vendor:EUGP", vendor="EUGP") == 0
    assert not Curve.objects.filter(curve_key="k9").exists()
