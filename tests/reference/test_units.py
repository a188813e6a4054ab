"""The units lookup (spec 2.2): key = unit text upper-cased without spaces; cached per process until a load
changes units; defaults for a machine without the fixture folder."""

import csv

from apps.reference.models import UnitMapping
from apps.reference.selectors import units_lookup, units_resolve
from apps.reference.services import reference_load, units_map_default_ensure
from tests.support.reference import ORIGINAL, file_edit


def test_spellings_of_one_unit_resolve_alike(loaded):
    assert units_resolve(units_raw="$ / MWh") == units_resolve(units_raw="$/MWh") == ("USD", "MWh")
    assert units_resolve(units_raw="$/mwh") == ("USD", "MWh")
    assert units_resolve(units_raw=" c / kWh ") == ("USD", "kWh")
    assert units_resolve(units_raw="usd/bbl") == ("USD", "BBL")
    assert units_resolve(units_raw="$/MW-day") == ("USD", "MW-day")
    assert units_resolve(units_raw="PLN/MWh") is None


def test_the_lookup_has_one_entry_per_key_of_the_file(loaded):
    with open(ORIGINAL / "units_map.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = {row["units_raw"].upper().replace(" ", ""): (row["currency"], row["per_unit"]) for row in rows}

    assert units_lookup() == expected
    assert len(expected) < len(rows)  # $/MWh, $ / MWh and $/MWH share a key


def test_the_lookup_is_cached_until_a_load_changes_units(loaded, source_copy, django_assert_num_queries):
    units_lookup()
    with django_assert_num_queries(0):
        units_lookup()
    file_edit(source_copy / "units_map.csv", "$/tonne,USD,tonne\n", "$/tonne,USD,tonne\nPLN/MWh,PLN,MWh\n")

    reference_load(source_dir=source_copy)

    assert units_resolve(units_raw="PLN / MWh") == ("PLN", "MWh")


def test_a_load_that_changes_no_units_keeps_the_cache(loaded, django_assert_num_queries):
    units_lookup()

    reference_load(source_dir=ORIGINAL)

    with django_assert_num_queries(0):
        units_lookup()


def test_the_lookup_hands_out_a_copy(loaded):
    units_lookup()["$/MWH"] = ("EUR", "MWh")

    assert units_lookup()["$/MWH"] == ("USD", "MWh")


def test_default_units_fill_an_empty_table_once(db):
    UnitMapping.objects.all().delete()

    assert units_map_default_ensure() == 7
    assert units_map_default_ensure() == 0

    assert units_resolve(units_raw="$/MWh") == ("USD", "MWh")
    assert units_resolve(units_raw="c/kWh") == ("USD", "kWh")
    assert units_resolve(units_raw="$/MW-day") == ("USD", "MW-day")
    assert units_resolve(units_raw="€ / MWh") == units_resolve(units_raw="EUR/MWh") == ("EUR", "MWh")
    assert units_resolve(units_raw="£/MWh") == units_resolve(units_raw="GBP/MWh") == ("GBP", "MWh")


def test_default_units_leave_loaded_units_alone(loaded):
    before = set(UnitMapping.objects.values_list("units_raw", "currency", "per_unit"))

    created = units_map_default_ensure()

    after = set(UnitMapping.objects.values_list("units_raw", "currency", "per_unit"))
    assert created == 2
    assert after - before == {("€/MWh", "EUR", "MWh"), ("£/MWh", "GBP", "MWh")}
