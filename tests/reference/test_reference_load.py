"""reference_load: the real catalogs go in whole, a second load writes nothing, a changed file updates its
rows in place, and a missing or broken file is named with its line and leaves the database as it was."""

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import models

from apps.reference.catalogs import CatalogFileError
from apps.reference.models import (
    Block,
    Calendar,
    CalendarBlock,
    CalendarHoliday,
    Iso,
    IsoDataSource,
    IsoNode,
    Market,
    Product,
    UnitMapping,
)
from apps.reference.services import reference_load
from aurum.errors import InvalidInputError
from tests.support.reference import ORIGINAL, file_edit, reference_clear

CATALOG_MODELS: dict[str, type[models.Model]] = {
    "units_map": UnitMapping,
    "calendars": Calendar,
    "calendar_holidays": CalendarHoliday,
    "calendar_blocks": CalendarBlock,
    "iso_catalog": Iso,
    "iso_data_sources": IsoDataSource,
    "market_catalog": Market,
    "iso_nodes": IsoNode,
    "block_catalog": Block,
    "product_catalog": Product,
}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        name: list(model._default_manager.order_by("pk").values()) for name, model in CATALOG_MODELS.items()
    }


def _line_of(path: Path, starts_with: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if text.startswith(starts_with))


def test_loading_the_real_catalogs_stores_every_row_of_every_file(db):
    calendars = _json(ORIGINAL / "calendars.json")
    expected = {
        "units_map": len(_csv_rows(ORIGINAL / "units_map.csv")),
        "calendars": len(calendars),
        "calendar_holidays": sum(len(spec.get("holidays", [])) for spec in calendars.values()),
        "calendar_blocks": sum(len(spec["blocks"]) for spec in calendars.values()),
        "iso_catalog": len(_csv_rows(ORIGINAL / "iso_catalog.csv")),
        "iso_data_sources": len(_json(ORIGINAL / "iso_catalog.json")["isos"]),
        "market_catalog": len(_csv_rows(ORIGINAL / "market_catalog.csv")),
        "iso_nodes": len(_csv_rows(ORIGINAL / "iso_nodes.csv")),
        "block_catalog": len(_csv_rows(ORIGINAL / "block_catalog.csv")),
        "product_catalog": len(_csv_rows(ORIGINAL / "product_catalog.csv")),
    }
    reference_clear()

    counts = reference_load(source_dir=ORIGINAL)

    assert counts == expected
    assert {name: model._default_manager.count() for name, model in CATALOG_MODELS.items()} == expected
    # The sizes spec 2.2 states.
    assert (counts["units_map"], counts["calendars"], counts["iso_catalog"]) == (36, 8, 9)
    assert (counts["block_catalog"], counts["product_catalog"]) == (8, 8)


def test_loaded_rows_hold_the_values_of_their_files(loaded):
    assert UnitMapping.objects.get(units_raw="$ / MWh").units_key == "$/MWH"
    assert Market.objects.get(iso_id="CAISO", market_code="REAL_TIME").settlement_interval_minutes == 15
    assert Market.objects.get(iso_id="AESO", market_code="REAL_TIME").settlement_interval_minutes == 60
    assert Market.objects.get(iso_id="UNKNOWN", market_code="UNKNOWN").timezone_override == "UTC"
    pjm = Iso.objects.get(iso_code="PJM")
    assert (pjm.iso_name, pjm.country, pjm.region, pjm.timezone_offsets) == (
        "PJM Interconnection",
        "US",
        "PJM",
        ["-05:00"],
    )
    system = IsoNode.objects.get(iso_id="CAISO", location_id="CAISO_SYSTEM")
    assert (system.location_type, system.zone, system.hub) == ("SYSTEM", "", "CAISO")
    assert Block.objects.get(block_code="5X16").total_hours == 80
    assert Product.objects.get(product_code="CAPACITY_ZONAL").unit == "USD/kW-Mo"
    source = IsoDataSource.objects.get(iso_id="PJM")
    assert (source.api_key_required, source.requests_per_minute, source.requests_per_hour) == (
        True,
        200,
        12000,
    )
    assert IsoDataSource.objects.get(iso_id="NYISO").api_key_required is False
    on_peak = CalendarBlock.objects.get(calendar_id="pjm", block="ON_PEAK")
    assert on_peak.rules == _json(ORIGINAL / "calendars.json")["pjm"]["blocks"]["ON_PEAK"]["rules"]
    assert list(CalendarHoliday.objects.filter(calendar_id="eu_base").values_list("date", flat=True)) == [
        date(2024, 1, 1),
        date(2024, 12, 25),
    ]
    market = Market.objects.get(iso_id="PJM", market_code="FIVE_MINUTE")
    assert LogEntry.objects.get_for_object(market).filter(action=LogEntry.Action.CREATE).exists()


def test_loading_again_changes_nothing(loaded):
    before = _snapshot()
    audit_entries = LogEntry.objects.count()

    again = reference_load(source_dir=ORIGINAL)

    assert again == loaded
    assert _snapshot() == before
    assert LogEntry.objects.count() == audit_entries


def test_a_changed_row_is_updated_in_place_and_audited(loaded, source_copy):
    file_edit(
        source_copy / "market_catalog.csv",
        "CAISO,REAL_TIME,Real-Time Energy,LMP,15,",
        "CAISO,REAL_TIME,Real-Time Energy,LMP,5,",
    )
    file_edit(source_copy / "block_catalog.csv", "5X16,Weekday Peak,", "5X16,Weekday Peak (5x16),")
    market = Market.objects.get(iso_id="CAISO", market_code="REAL_TIME")
    audit_entries = LogEntry.objects.count()

    counts = reference_load(source_dir=source_copy)

    assert counts == loaded
    updated = Market.objects.get(iso_id="CAISO", market_code="REAL_TIME")
    assert (updated.pk, updated.settlement_interval_minutes) == (market.pk, 5)
    assert Block.objects.get(block_code="5X16").block_name == "Weekday Peak (5x16)"
    assert LogEntry.objects.count() == audit_entries + 2
    entry = LogEntry.objects.get_for_object(updated).get(action=LogEntry.Action.UPDATE)
    assert entry.changes_dict == {"settlement_interval_minutes": ["15", "5"]}


def test_a_calendars_holidays_follow_its_file(loaded, source_copy):
    path = source_copy / "calendars.json"
    calendars = _json(path)
    calendars["pjm"]["holidays"] = ["2024-01-01", "2024-05-27"]
    path.write_text(json.dumps(calendars), encoding="utf-8")

    counts = reference_load(source_dir=source_copy)

    assert counts["calendar_holidays"] == loaded["calendar_holidays"] - 2
    assert list(CalendarHoliday.objects.filter(calendar_id="pjm").values_list("date", flat=True)) == [
        date(2024, 1, 1),
        date(2024, 5, 27),
    ]
    assert CalendarHoliday.objects.filter(calendar_id="caiso").count() == 4


def _append(name: str, text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        with open(folder / name, "a", encoding="utf-8") as handle:
            handle.write(text)

    return edit


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda folder: file_edit(folder / name, old, new)


def _calendar_hours(folder: Path) -> None:
    calendars = _json(folder / "calendars.json")
    calendars["pjm"]["blocks"]["ON_PEAK"]["rules"][0]["hours"] = ["07-24"]
    (folder / "calendars.json").write_text(json.dumps(calendars, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_append("units_map.csv", "PLN/MWh,PLN\n"), "units_map.csv, line 38: expected 3 fields, found 2"),
        (
            _append("units_map.csv", "$/mwh,EUR,MWh\n"),
            "units_map.csv, line 38: '$/mwh' has the lookup key of line 2 ('$/MWh')",
        ),
        (
            _replace(
                "market_catalog.csv", "ERCOT,REAL_TIME,5-Min Real-Time,LMP,5,", "ERCOT,REAL_TIME,x,LMP,five,"
            ),
            "market_catalog.csv, line 8: settlement_interval_minutes 'five' is not a whole number",
        ),
        (
            _replace("iso_nodes.csv", "\nERCOT,HB_NORTH,", "\nERCOTT,HB_NORTH,"),
            "iso_nodes.csv, line 20: iso 'ERCOTT' is not an ISO of iso_catalog.csv",
        ),
        (
            _replace("iso_nodes.csv", "America/Detroit", "America/Motown"),
            "iso_nodes.csv, line 21: timezone 'America/Motown' is not an IANA timezone",
        ),
        (
            _replace("block_catalog.csv", "block_code,block_name,", "code,block_name,"),
            "block_catalog.csv, line 1: the header must name the columns",
        ),
        (
            _replace("product_catalog.csv", "GAS_BASIS,", "POWER_SWAP_DA,"),
            "product_catalog.csv, line 4: duplicate of line 2 (POWER_SWAP_DA)",
        ),
        (_calendar_hours, "calendars.json, pjm.blocks.ON_PEAK.rules[0].hours: hour range '07-24' must run"),
        (
            _replace("calendars.json", '"America/Los_Angeles",', '"America/Los_Angeles",,'),
            "calendars.json, line 56: not valid JSON",
        ),
        (
            _replace("iso_catalog.json", '"name": "pjm"', '"name": "pjmx"'),
            "iso_catalog.json, isos[1].name: 'pjmx' is not an ISO of iso_catalog.csv",
        ),
    ],
)
def test_a_malformed_file_is_named_with_its_line_and_nothing_is_written(db, source_copy, edit, expected):
    edit(source_copy)
    before = _snapshot()

    with pytest.raises(CatalogFileError) as caught:
        reference_load(source_dir=source_copy)

    assert str(caught.value).startswith(f"{source_copy}/"), str(caught.value)
    assert expected in str(caught.value)
    assert _snapshot() == before


def test_an_error_found_while_writing_rolls_back_the_catalogs_written_before_it(loaded, source_copy):
    # Markets are written before products; the over-long product name is caught by the model's own checks.
    file_edit(
        source_copy / "market_catalog.csv",
        "CAISO,REAL_TIME,Real-Time Energy,LMP,15,",
        "CAISO,REAL_TIME,Real-Time Energy,LMP,5,",
    )
    file_edit(source_copy / "product_catalog.csv", "REC_TIER1,REC Tier 1,", f"REC_TIER1,{'R' * 200},")
    line = _line_of(source_copy / "product_catalog.csv", "REC_TIER1,")
    before = _snapshot()
    audit_entries = LogEntry.objects.count()

    with pytest.raises(CatalogFileError) as caught:
        reference_load(source_dir=source_copy)

    assert f"product_catalog.csv, line {line}: product_name: " in str(caught.value)
    # One of the project's errors: the same detail wherever it surfaces (command, API problem).
    assert isinstance(caught.value, InvalidInputError)
    assert (caught.value.status, caught.value.slug, caught.value.detail) == (
        400,
        "invalid-catalog-file",
        str(caught.value),
    )
    assert _snapshot() == before
    assert LogEntry.objects.count() == audit_entries


def test_a_missing_file_or_folder_is_named(db, source_copy):
    (source_copy / "iso_nodes.csv").unlink()

    with pytest.raises(CatalogFileError, match=r"/iso_nodes\.csv: the file is missing$"):
        reference_load(source_dir=source_copy)
    with pytest.raises(CatalogFileError, match=r"/absent: the reference fixture folder does not exist$"):
        reference_load(source_dir=source_copy / "absent")
