"""Generated demo workbooks (for machines without the vendors' files) parse like the real ones."""

import io
import zipfile
from datetime import date

import pyarrow.compute as pc

from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.workbook import parse_workbook
from aurum.devstack.demo.ingest import demo_ingest
from aurum.devstack.demo.workbooks import (
    EUGP_CURVES,
    RP_CURVES,
    business_days,
    eugp_demo_workbook,
    rp_demo_workbook,
)


def test_generated_eugp_workbook_parses_in_the_real_layout():
    result = parse_workbook(eugp_demo_workbook(date(2025, 9, 12), 0), filename="EOD_EUGP_20250912_1430.xlsx")

    rows = result.rows
    assert result.vendor == "EUGP"
    assert result.asof_date == date(2025, 9, 12)
    monthly = rows.filter(pc.equal(rows.column("tenor_type"), "MONTHLY"))
    assert monthly.num_rows == len(EUGP_CURVES) * 36
    assert len(set(rows.column("curve_key").to_pylist())) == len(EUGP_CURVES) * 2  # Fixed Prices + Strips
    assert pc.min(rows.column("bid")).as_py() > 0
    assert all(
        b <= a for b, a in zip(rows.column("bid").to_pylist(), rows.column("ask").to_pylist(), strict=True)
    )


def test_generated_rp_workbook_parses_with_its_region_row():
    result = parse_workbook(rp_demo_workbook(date(2025, 9, 12), 0), filename="EOD_RP_20250912_1430.xlsx")

    rows = result.rows
    assert result.vendor == "RP"
    assert rows.filter(pc.equal(rows.column("tenor_type"), "MONTHLY")).num_rows == len(RP_CURVES) * 24
    assert set(rows.column("vendor_region").to_pylist()) == {"US", "AP", "EU"}


def test_prices_move_from_day_to_day_but_repeat_for_the_same_day():
    def front_mids(day_index: int) -> list[float]:
        rows = parse_workbook(
            eugp_demo_workbook(date(2025, 9, 12), day_index), filename="EOD_EUGP_20250912_1430.xlsx"
        ).rows
        return rows.filter(pc.equal(rows.column("tenor_label"), "2025-09")).column("mid").to_pylist()

    assert front_mids(3) == front_mids(3)
    assert front_mids(3) != front_mids(4)


def test_business_days_skip_weekends():
    assert business_days(date(2025, 9, 15), 3) == [date(2025, 9, 11), date(2025, 9, 12), date(2025, 9, 15)]


def test_generated_workbooks_are_packaged_as_excel_writes_them():
    """Shared strings, a theme and document properties, like the vendors' files (xlsxwriter), not the inline
    strings of a hand-written package."""
    package = zipfile.ZipFile(io.BytesIO(eugp_demo_workbook(date(2025, 9, 12), 0)))

    assert {"xl/sharedStrings.xml", "xl/theme/theme1.xml", "docProps/app.xml"} <= set(package.namelist())
    assert b"inlineStr" not in package.read("xl/worksheets/sheet1.xml")
    assert b"<Application>Microsoft Excel</Application>" in package.read("docProps/app.xml")


def test_demo_ingest_generates_and_ingests_when_there_are_no_fixtures(world, tmp_path):
    out = io.StringIO()

    files = demo_ingest(days=2, fixtures_dir=tmp_path / "absent", generated_dir=tmp_path / "eod", stdout=out)

    assert "generated workbooks" in out.getvalue()
    assert sorted(p.name.split("_")[1] for p in files) == ["EUGP", "EUGP", "RP", "RP"]
    assert len(list((tmp_path / "eod").glob("EOD_*.xlsx"))) == 4
    names = [p.name for p in files]
    assert IngestRun.objects.filter(status="succeeded", file_name__in=names).count() == 4
