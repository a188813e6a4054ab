"""CSV output, the end-to-end run behind `manage.py parse_workbook`, and the command itself."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from apps.ingestion.parsers.csv_out import write_csv
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.errors import LayoutMismatchError
from apps.ingestion.parsers.pipeline import parse_workbook_to_csv
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.paths import EOD_DIR, ORIGINAL, UNITS_MAP

REPO = Path(__file__).resolve().parents[2]
AVRO_FIELDS = [
    field["name"] for field in json.loads((ORIGINAL / "curve.observation.v1.avsc").read_text())["fields"]
]
RP_FILE = EOD_DIR / "EOD_RP_20250912_1430.xlsx"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_exactly_the_avro_columns_and_quarantine_adds_its_reason(tmp_path: Path) -> None:
    rows = enrich(
        parse_workbook(ORIGINAL / "pw_golden.xlsx", vendor="PW", as_of=date(2025, 1, 1)).rows, UNITS_MAP
    )
    clean, quarantined = quarantine_split(rows)

    written = write_csv(clean, tmp_path / "clean.csv"), write_csv(quarantined, tmp_path / "quarantine.csv")

    assert written == (2, 6)
    with (tmp_path / "clean.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == AVRO_FIELDS
    with (tmp_path / "quarantine.csv").open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == [*AVRO_FIELDS, "quarantine_reason"]
    strip = _read(tmp_path / "clean.csv")[0]
    assert strip["tenor_label"] == "Bal 2025"
    assert (strip["asof_date"], strip["contract_month"], strip["bid"], strip["mid"]) == (
        "2025-01-01",
        "",
        "",
        "52.5",
    )
    assert strip["curve_key"] == "646b7e09ff653784525addfd37645bb6de4d98998f8c2c0242956a6a73df3bdb"
    assert {row["quarantine_reason"] for row in _read(tmp_path / "quarantine.csv")} == {
        "no_duplicate_key",
        "mid_within_bid_ask|no_duplicate_key",
    }


def test_csv_floats_round_trip(tmp_path: Path) -> None:
    rows = parse_workbook(EOD_DIR / "EOD_EUGP_20250912_1430.xlsx").rows
    write_csv(enrich(rows, UNITS_MAP), tmp_path / "eugp.csv")

    spark = next(
        row
        for row in _read(tmp_path / "eugp.csv")
        if row["sheet_name"] == "Spark Spread" and row["location"] == "Austrian" and row["block"] == "BASE"
    )

    assert float(spark["mid"]) == 25.81827660034004


def test_pipeline_writes_files_and_summarises(tmp_path: Path) -> None:
    out, quarantine = tmp_path / "curves.csv", tmp_path / "quarantine.csv"

    summary = parse_workbook_to_csv(
        RP_FILE, out=out, quarantine_out=quarantine, units_map_path=UNITS_MAP, with_derived_strips=True
    )

    assert (summary.vendor, summary.asof_date, summary.asof_source) == ("RP", date(2025, 9, 12), "date_cell")
    assert summary.points_per_sheet["Fixed Prices - Mid"] == 22387
    assert summary.rows_per_sheet == {
        "Fixed Prices - Mid": 22387 + 2 * 61,
        "Seasonal Blocks - Mid": 5505 + 2 * 15,
    }
    assert (summary.quarantined_rows, summary.duplicate_rows_dropped) == (0, 228)
    assert summary.clean_rows == 22387 + 5505 - 76
    assert summary.derived_rows == 366 * 20  # quarters Q4 2025 .. Q3 2030; the vendor quotes the calendars
    assert len(_read(out)) == summary.clean_rows + summary.derived_rows
    assert _read(quarantine) == []
    report = summary.render()
    assert "vendor RP, as-of 2025-09-12 (from date_cell)" in report
    assert "quarantined 0" in report
    assert "Seasonal Blocks - BidAsk" in report


def test_pipeline_reports_quarantine_reasons(tmp_path: Path) -> None:
    summary = parse_workbook_to_csv(
        ORIGINAL / "pw_golden.xlsx",
        out=tmp_path / "c.csv",
        quarantine_out=tmp_path / "q.csv",
        vendor="PW",
        as_of=date(2025, 1, 1),
        units_map_path=UNITS_MAP,
    )

    assert summary.quarantine_reasons == {"no_duplicate_key": 6, "mid_within_bid_ask": 3}
    assert "quarantine no_duplicate_key: 6" in summary.render()


def test_pipeline_lets_workbook_errors_through(tmp_path: Path) -> None:
    renamed = tmp_path / "EOD_EUGP_20250912_1430.xlsx"
    renamed.write_bytes(RP_FILE.read_bytes())

    with pytest.raises(LayoutMismatchError):
        parse_workbook_to_csv(renamed, out=tmp_path / "out.csv", units_map_path=UNITS_MAP)
    assert not (tmp_path / "out.csv").exists()


def test_parser_package_does_not_import_django() -> None:
    code = (
        "import sys, apps.ingestion.parsers.pipeline; print(any(m.startswith('django') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


_COMMAND = textwrap.dedent(
    """
    import sys
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.configure(INSTALLED_APPS=[])
    django.setup()
    from apps.ingestion.management.commands.parse_workbook import Command

    try:
        call_command(Command(), *sys.argv[1:])
    except CommandError as exc:
        print(f"ERROR {exc}")
        sys.exit(3)
    """
)


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _COMMAND, *args], cwd=REPO, capture_output=True, text=True)


def test_management_command_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "curves.csv"

    result = _command(
        str(EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"), "--out", str(out), "--units-map", str(UNITS_MAP)
    )

    assert result.returncode == 0, result.stderr
    assert "vendor EUGP, as-of 2025-09-12" in result.stdout
    assert "Spark Spread" in result.stdout
    assert "quarantined 0" in result.stdout
    assert len(_read(out)) == 11483


def test_management_command_fails_with_the_error_code_and_message(tmp_path: Path) -> None:
    result = _command(str(tmp_path / "EOD_RP_20250912_1430.xlsx"), "--out", str(tmp_path / "o.csv"))

    assert result.returncode == 3
    assert "ERROR [file_not_found] EOD_RP_20250912_1430.xlsx: file not found." in result.stdout
    assert "Traceback" not in result.stderr


def test_management_command_takes_an_as_of_override(tmp_path: Path) -> None:
    out = tmp_path / "curves.csv"

    result = _command(
        str(EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"),
        "--out",
        str(out),
        "--as-of",
        "2025-09-15",
        "--units-map",
        str(UNITS_MAP),
    )

    assert result.returncode == 0, result.stderr
    assert "as-of 2025-09-15 (from override)" in result.stdout
    assert {row["asof_date"] for row in _read(out)} == {"2025-09-15"}
