"""Currency and per_unit come from the unit map, then the ISO default, then the region default (spec 2.2)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.units import embedded_units, normalise_units
from tests.support.paths import UNITS_MAP
from tests.support.rows import curve_row, curve_table


def _enriched(**overrides: Any) -> dict[str, Any]:
    defaults = {"currency": None, "per_unit": None}
    return enrich(curve_table([curve_row(**{**defaults, **overrides})]), UNITS_MAP).to_pylist()[0]


@pytest.mark.parametrize(
    ("units_raw", "currency", "per_unit"),
    [
        ("$/MWH", "USD", "MWh"),
        ("C/KWH", "USD", "kWh"),
        ("$/MW-DAY", "USD", "MW-day"),
        ("USD/MMBTU", "USD", "MMBtu"),
        ("$ / MWh", "USD", "MWh"),  # the lookup key drops spaces and case
        ("gbp/mwh", "GBP", "MWh"),
        ("JPY/KWH", "JPY", "kWh"),
    ],
)
def test_unit_map_lookup(units_raw: str, currency: str, per_unit: str) -> None:
    row = _enriched(units_raw=units_raw, iso="UK")

    assert (row["units_raw"], row["currency"], row["per_unit"]) == (units_raw, currency, per_unit)


@pytest.mark.parametrize(
    ("iso", "region", "currency"),
    [
        ("US", None, "USD"),
        ("UK", "EU", "GBP"),  # the ISO default comes before the region default
        ("NBP", None, "GBP"),
        ("TTF", None, "EUR"),
        ("EUA", None, "EUR"),
        ("EE", None, "EUR"),  # Aurum's extension for EUGP's Eastern-European hubs
        ("XX", "CA", "CAD"),
        ("XX", "EU", "EUR"),
        ("XX", "APAC", "USD"),
        ("XX", "US", "USD"),
    ],
)
def test_defaults_by_iso_then_region(iso: str, region: str | None, currency: str) -> None:
    row = _enriched(units_raw="PER WIDGET", iso=iso, region=region)

    assert (row["currency"], row["per_unit"], row["units_raw"]) == (currency, "MWh", "PER WIDGET")


def test_nothing_to_go_on_leaves_currency_missing() -> None:
    row = _enriched(units_raw="PER WIDGET", iso="XX", region=None)

    assert (row["currency"], row["per_unit"]) == (None, None)


def test_only_missing_fields_are_filled_each_on_its_own() -> None:
    kept = _enriched(units_raw="USD/MWH", currency="CAD", per_unit=None)
    blank = _enriched(units_raw="USD/MWH", currency="  ", per_unit="MW")

    assert (kept["currency"], kept["per_unit"]) == ("CAD", "MWh")
    assert (blank["currency"], blank["per_unit"]) == ("USD", "MW")


def test_vendor_default_units_are_spelt_into_units_raw() -> None:
    eu = _enriched(units_raw=None, units_source="vendor_default", iso="EU", region="EU")
    rp = _enriched(units_raw=None, units_source="vendor_default", iso="US", region=None)
    blank_cell = _enriched(units_raw=None, units_source="units_row", iso="US")

    assert (eu["units_raw"], eu["currency"], eu["per_unit"]) == ("EUR/MWH", "EUR", "MWh")
    assert (rp["units_raw"], rp["currency"]) == ("USD/MWH", "USD")
    # A units row with a blank cell is a real gap: units_raw stays missing (and the row is quarantined).
    assert (blank_cell["units_raw"], blank_cell["currency"]) == (None, "USD")


def test_other_columns_are_untouched() -> None:
    table = curve_table([curve_row(currency=None, per_unit=None), curve_row(iso="EE", currency=None)])

    enriched = enrich(table, UNITS_MAP)

    assert enriched.schema == table.schema
    for name in table.column_names:
        if name not in ("currency", "per_unit"):
            assert enriched.column(name).equals(table.column(name)), name


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("CAD - MWh", "CAD/MWH"),
        ("€/MWh", "EUR/MWH"),
        ("£ / therm", "GBP/THERM"),
        ("$ / MWh", "$/MWH"),
        ("$/MW-day", "$/MW-DAY"),
        ("  ", None),
        (None, None),
    ],
)
def test_unit_text_normalisation(text: str | None, normalised: str | None) -> None:
    assert normalise_units(text) == normalised


def test_units_written_into_column_names() -> None:
    assert embedded_units("Dutch_TTF_USDMMBTU") == "USD/MMBTU"
    assert embedded_units("NBP_USDMMBTU") == "USD/MMBTU"
    assert embedded_units("Dutch_TTF") is None
    assert embedded_units("USD Marine Fuel 0.5%") is None
