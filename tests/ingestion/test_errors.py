"""Bad inputs end in a WorkbookError with a stable code and a message a person can act on (no traceback)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from apps.ingestion.parsers import errors
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.paths import EOD_DIR
from tests.support.workbooks import eugp_workbook, sheet_xml, with_parts, with_sheet_xml, write_workbook

RP_FILE = EOD_DIR / "EOD_RP_20250912_1430.xlsx"
EUGP_FILE = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
EUGP_NAME = "EOD_EUGP_20250912_1430.xlsx"


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _crc_broken() -> bytes:
    data = write_workbook({"Fixed Prices - Mid": [["Date:", date(2025, 9, 12)]]})
    stored = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    raw = bytearray(stored.getvalue())
    at = raw.index(b"<sheetData>")
    raw[at + 1] = ord("X")  # same length, different bytes: the CRC no longer matches
    return bytes(raw)


def _zip_bomb() -> bytes:
    """A 300 MB run of zeros that deflates to a few hundred KB, inside an otherwise valid workbook."""
    data = write_workbook({"Fixed Prices - Mid": [["Date:", date(2025, 9, 12)]]})
    return with_parts(data, {"xl/media/zeros.bin": (bytes(1024 * 1024) for _ in range(300))})


def _mid_sheet(xml: bytes) -> bytes:
    return with_sheet_xml(write_workbook({"Fixed Prices - Mid": []}), {"Fixed Prices - Mid": xml})


FAR_CELL = sheet_xml(
    '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
)

Case = Callable[[], object]
CASES: list[tuple[str, Case, type[errors.WorkbookError], str]] = [
    (
        "random bytes",
        lambda: parse_workbook(b"\x00\x01garbage" * 50, filename=EUGP_NAME),
        errors.NotAnXlsxError,
        "not an .xlsx workbook",
    ),
    ("csv renamed", lambda: parse_workbook(b"a,b\n1,2\n", filename=EUGP_NAME), errors.NotAnXlsxError, "ZIP"),
    (
        "legacy xls",
        lambda: parse_workbook(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), filename=EUGP_NAME),
        errors.NotAnXlsxError,
        "legacy .xls",
    ),
    ("empty file", lambda: parse_workbook(b"", filename=EUGP_NAME), errors.NotAnXlsxError, "empty"),
    (
        "zip, not a workbook",
        lambda: parse_workbook(_zip({"readme.txt": b"hi"}), filename=EUGP_NAME),
        errors.NotAnXlsxError,
        "not an Excel workbook",
    ),
    (
        "truncated",
        lambda: parse_workbook(RP_FILE.read_bytes()[:500_000], filename=RP_FILE.name),
        errors.CorruptWorkbookError,
        "damaged or truncated",
    ),
    (
        "crc mismatch",
        lambda: parse_workbook(_crc_broken(), filename=EUGP_NAME),
        errors.CorruptWorkbookError,
        "damaged",
    ),
    (
        "broken sheet xml",
        lambda: parse_workbook(_mid_sheet(b"<worksheet><sheetData><row"), filename=EUGP_NAME),
        errors.CorruptWorkbookError,
        "Fixed Prices - Mid",
    ),
    (
        "zip bomb",
        lambda: parse_workbook(_zip_bomb(), filename=EUGP_NAME),
        errors.ExpansionLimitError,
        "would expand to",
    ),
    (
        "low uncompressed limit",
        lambda: parse_workbook(EUGP_FILE, max_uncompressed_bytes=1_000_000),
        errors.ExpansionLimitError,
        "would expand to 1.2 MB; the limit is 1.0 MB",
    ),
    (
        "far-away cell",
        lambda: parse_workbook(_mid_sheet(FAR_CELL), filename=EUGP_NAME),
        errors.ExpansionLimitError,
        "1,048,576 rows x 16,384 columns",
    ),
    (
        "cell budget",
        lambda: parse_workbook(EUGP_FILE, max_cells=10_000),
        errors.ExpansionLimitError,
        "the limit is 10,000",
    ),
    (
        "unknown vendor in name",
        lambda: parse_workbook(eugp_workbook(), filename="prices_20250912.xlsx"),
        errors.UnknownVendorError,
        "cannot tell the vendor",
    ),
    (
        "unknown vendor argument",
        lambda: parse_workbook(EUGP_FILE, vendor="XYZ"),
        errors.UnknownVendorError,
        "known vendors are PW, EUGP, RP, SIMPLE",
    ),
    (
        "no as-of anywhere",
        lambda: parse_workbook(eugp_workbook(asof=""), filename="EOD_EUGP.xlsx"),
        errors.MissingAsOfError,
        "--as-of YYYY-MM-DD",
    ),
    (
        "RP renamed EUGP",
        lambda: parse_workbook(RP_FILE.read_bytes(), filename=EUGP_NAME),
        errors.LayoutMismatchError,
        "no 'peak' header row",
    ),
    (
        "EUGP renamed RP",
        lambda: parse_workbook(EUGP_FILE.read_bytes(), filename="EOD_RP_20250912_1430.xlsx"),
        errors.LayoutMismatchError,
        "no unlabelled region row",
    ),
    (
        "EUGP renamed PW",
        lambda: parse_workbook(EUGP_FILE.read_bytes(), filename="EOD_PW_20250912_1430.xlsx"),
        errors.LayoutMismatchError,
        "no 'iso' header row",
    ),
    (
        "wrong sheets",
        lambda: parse_workbook(write_workbook({"Sheet1": [["a"]]}), filename=EUGP_NAME),
        errors.LayoutMismatchError,
        "there is no 'Fixed Prices - Mid' sheet (sheets found: 'Sheet1')",
    ),
    (
        "no prices",
        lambda: parse_workbook(
            eugp_workbook(mids=[["", ""]] * 3, bid_asks=[["", ""]] * 3), filename=EUGP_NAME
        ),
        errors.EmptyWorkbookError,
        "has no prices",
    ),
    (
        "too large path",
        lambda: parse_workbook(RP_FILE, max_bytes=100_000),
        errors.WorkbookTooLargeError,
        "the limit is 0.1 MB",
    ),
    (
        "too large bytes",
        lambda: parse_workbook(RP_FILE.read_bytes(), filename=RP_FILE.name, max_bytes=100_000),
        errors.WorkbookTooLargeError,
        "MB",
    ),
    (
        "missing file",
        lambda: parse_workbook(EOD_DIR / "EOD_RP_19990101_1430.xlsx"),
        errors.WorkbookNotFoundError,
        "file not found",
    ),
    (
        "directory",
        lambda: parse_workbook(EOD_DIR, vendor="RP"),
        errors.WorkbookNotFoundError,
        "cannot be read",
    ),
]


@pytest.mark.parametrize(("case", "expected", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(
    case: Case, expected: type[errors.WorkbookError], fragment: str
) -> None:
    with pytest.raises(expected) as raised:
        case()

    error = raised.value
    assert isinstance(error, errors.WorkbookError)
    assert fragment in str(error)
    assert str(error) == error.message
    assert error.code == expected.code


def test_error_codes_are_stable() -> None:
    codes = {cls.__name__: cls.code for cls in errors.WorkbookError.__subclasses__()}

    assert codes == {
        "WorkbookNotFoundError": "file_not_found",
        "WorkbookTooLargeError": "file_too_large",
        "NotAnXlsxError": "not_xlsx",
        "CorruptWorkbookError": "corrupt_workbook",
        "ExpansionLimitError": "expansion_limit",
        "UnknownVendorError": "unknown_vendor",
        "MissingAsOfError": "missing_asof",
        "LayoutMismatchError": "layout_mismatch",
        "EmptyWorkbookError": "empty_workbook",
        "ContractSchemaError": "contract_schema",
    }


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "EOD_EUGP_20250912_1430.xlsx"
    path.write_bytes(b"not a workbook")

    with pytest.raises(errors.NotAnXlsxError) as raised:
        parse_workbook(path)

    assert raised.value.filename == path.name
    assert str(raised.value).startswith(path.name)
