"""manage.py load_reference: counts per catalog; defaults when the fixture folder is absent."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.reference.models import Market, UnitMapping
from tests.support.reference import ORIGINAL, file_edit


def test_the_command_prints_the_rows_of_each_catalog(db):
    out = StringIO()

    call_command("load_reference", "--source", str(ORIGINAL), stdout=out)

    lines = out.getvalue().splitlines()
    assert f"Reference data loaded from {ORIGINAL}" in lines[0]
    assert {line.split()[0]: int(line.split()[1]) for line in lines[1:]} == {
        "units_map": 36,
        "calendars": 8,
        "calendar_holidays": 16,
        "calendar_blocks": 16,
        "iso_catalog": 9,
        "iso_data_sources": 8,
        "market_catalog": 19,
        "iso_nodes": 32,
        "block_catalog": 8,
        "product_catalog": 8,
    }
    assert Market.objects.filter(iso_id="PJM").count() == 3


def test_the_command_reads_the_shared_fixtures_by_default(db):
    out = StringIO()

    call_command("load_reference", stdout=out)

    assert "Reference data loaded from" in out.getvalue()
    assert UnitMapping.objects.filter(units_raw="$ / MWh").exists()


def test_without_the_fixture_folder_the_command_ensures_the_default_units(db, monkeypatch, tmp_path: Path):
    monkeypatch.setattr(
        "apps.reference.management.commands.load_reference.DEFAULT_SOURCE", tmp_path / "absent"
    )
    UnitMapping.objects.all().delete()
    out = StringIO()

    call_command("load_reference", stdout=out)

    assert f"No reference fixtures at {tmp_path / 'absent'}" in out.getvalue()
    assert "(7 created)" in out.getvalue()
    assert UnitMapping.objects.count() == 7


def test_a_malformed_file_fails_the_command_with_its_name_and_line(db, source_copy):
    file_edit(
        source_copy / "block_catalog.csv", "5X16,Weekday Peak,7,23,80,", "5X16,Weekday Peak,7,23,eighty,"
    )

    with pytest.raises(CommandError, match=r"block_catalog\.csv, line 3: total_hours 'eighty'"):
        call_command("load_reference", "--source", str(source_copy), stdout=StringIO())
