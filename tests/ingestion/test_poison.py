"""No poison workbooks: a hostile sheet is measured in bounded memory and refused before calamine allocates
its grid; the measure places cells exactly as written, whatever form the XML takes.

Memory is Python's peak allocation (tracemalloc: numpy, zipfile and expat buffers included) while the whole
workbook is opened and parsed. The bound is a correctness bound far above the 0.1-13 MB measured
(bench/poison_workbooks.py, docs/performance.md); before streaming, the empty-cell flood cost 1.8 GB, the
far-cell flood 0.7 GB and the tag flood 0.4 GB.
"""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable

import pyarrow as pa
import pytest

from apps.ingestion.parsers import errors
from apps.ingestion.parsers.extent import CHUNK_BYTES, Extent, UnsafeSheetError, sheet_extent
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.poison import POISONS
from tests.support.workbooks import eugp_workbook, sheet_xml, with_parts

EUGP_NAME = "EOD_EUGP_20250912_1430.xlsx"
MEMORY_BOUND = 64 * 1024 * 1024


def _peak_while(call: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            outcome: object = call()
        except errors.WorkbookError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (POISONS["empty-cell-flood"], r"is 157,[\d,]+ bytes of XML; the limit is 67,108,864\.$"),
        (POISONS["far-cell-flood"], r"spans 1,048,576 rows x 16,384 columns\); the limit is 2,000,000\.$"),
        (
            POISONS["far-cell-last"],
            r"to 17,179,869,184 cells \(sheet 'Fixed Prices - Mid' spans 1,048,576 rows",
        ),
        (POISONS["tag-flood"], r"sheet 'Fixed Prices - Mid' holds more than 2,000,000 cell tags"),
        (POISONS["unaddressed-flood"], r"spans [\d,]+ rows x 16,384 columns\); the limit is 2,000,000\.$"),
    ],
    ids=["empty-cell-flood", "far-cell-flood", "far-cell-last", "tag-flood", "unaddressed-flood"],
)
def test_a_poison_sheet_is_refused_in_bounded_memory(make: Callable[[], bytes], message: str) -> None:
    data = make()

    outcome, peak = _peak_while(lambda: parse_workbook(data, filename=EUGP_NAME))

    assert len(data) < 700_000
    assert isinstance(outcome, errors.ExpansionLimitError), outcome
    assert re.search(message, str(outcome)), str(outcome)
    assert peak < MEMORY_BOUND, f"peak {peak / 1e6:.1f} MB"


def test_a_huge_dimension_is_not_a_size() -> None:
    plain = eugp_workbook()
    huge = with_parts(
        plain,
        {
            part: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
            for part, xml in _sheet_parts(plain).items()
        },
    )

    outcome, peak = _peak_while(lambda: parse_workbook(huge, filename=EUGP_NAME).rows)

    expected = parse_workbook(plain, filename=EUGP_NAME).rows
    assert all(b"A1:XFD1048576" in xml for xml in _sheet_parts(huge).values())
    assert isinstance(outcome, pa.Table)
    assert outcome.drop_columns(["_ingest_ts"]) == expected.drop_columns(["_ingest_ts"])
    assert outcome.num_rows == 6
    assert peak < MEMORY_BOUND


def _sheet_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")}


def test_too_many_shared_strings_are_refused() -> None:
    data = POISONS["shared-strings-flood"]()

    with pytest.raises(errors.ExpansionLimitError) as refused:
        parse_workbook(data, filename=EUGP_NAME)

    assert str(refused.value) == f"{EUGP_NAME} holds 600,000 shared strings; the limit is 500,000."


def test_an_oversized_part_is_refused() -> None:
    data = with_parts(eugp_workbook(), {"xl/styles.xml": iter([b" " * (16 * 1024 * 1024 + 1)])})

    with pytest.raises(errors.ExpansionLimitError) as refused:
        parse_workbook(data, filename=EUGP_NAME)

    assert (
        str(refused.value) == f"{EUGP_NAME}: part xl/styles.xml is 16,777,217 bytes; the limit is 16,777,216."
    )


# --- the measure itself: every form a cell can be written in -------------------------------------------


def _measure(body: str) -> Extent:
    xml = sheet_xml(body)
    return sheet_extent(lambda: io.BytesIO(xml), budget=2_000_000)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<row r="3"><c r="B3"><v>1</v></c></row>', (3, 2)),
        ('<row r="2"><c r="b2"/><c r="AA7"/></row>', (7, 27)),
        ('<row r="3"><c r="B3"/><c/></row>', (3, 3)),  # after its left neighbour
        ("<row><c/><c/></row><row><c/></row>", (2, 2)),  # no references at all
        ('<row r="5"/><row><c/></row>', (6, 1)),  # a row without a number follows the one before
        ('<row r="1"><c r = "C9"/></row>', (9, 3)),  # spaces around '='
        ("<row r='1'><c r='XFD5'/></row>", (5, 16_384)),  # apostrophes
        ('<row r="1"><x:c r="D4"/></row>', (4, 4)),  # a prefixed element
        ('<row r="1"><c r="A1"/><c foo=\' r="A1"\'/><c/></row>', (1, 3)),  # a fake reference in a value
        ('<row r="1"><c r="A1" t="inlineStr"><is><t> r="Z9"</t></is></c></row>', (9, 26)),  # text counts
        ('<row r="1"><c r="A1048577"/></row>', (1_048_577, 1)),  # beyond Excel: as written
        ('<row r="1"><c r="ABCD1"/></row>', (1_048_576, 16_384)),  # no reference: the last cell
    ],
)
def test_the_extent_is_where_calamine_puts_the_last_cell(body: str, expected: tuple[int, int]) -> None:
    extent = _measure(body)

    assert (extent.rows, extent.columns) == expected


def test_a_sheet_larger_than_a_chunk_is_measured_exactly() -> None:
    body = "".join(f'<row r="{n}"><c r="B{n}"><v>{n}</v></c><c r="C{n}"/></row>' for n in range(1, 40_001))

    extent = _measure(body)

    assert len(sheet_xml(body)) > 4 * CHUNK_BYTES
    assert (extent.rows, extent.columns, extent.cell_tags) == (40_000, 3, 80_000)


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE worksheet [<!ENTITY big "x">]><row r="1"><c r="A1"/></row>',
        '<row r="1"><!-- <c r="XFD1"/> --><c r="A1"/></row>',
        '<row r="1"><c r="A1"><v><![CDATA[1]]></v></c></row>',
    ],
    ids=["doctype", "comment", "cdata"],
)
def test_markup_no_spreadsheet_writer_produces_is_refused(body: str) -> None:
    with pytest.raises(UnsafeSheetError, match="DOCTYPE, comment or CDATA"):
        _measure(body)
