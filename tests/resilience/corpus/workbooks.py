"""Malformed and hostile workbooks, each under 1 MB, built from the real EUGP workbook in
``../shared/fixtures`` or from a generated one in its layout.

``REFUSED_AT_UPLOAD``: what the archive or the name alone shows (answered 422 at upload, nothing kept).
``FAILED_BY_THE_RUN``: what only reading the sheets shows (202, then the run ends ``failed``).
``HARMLESS``: hostile-looking but safe: ingested from cached values, nothing followed or evaluated.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tests.support.paths import EOD_DIR
from tests.support.workbooks import (
    MONTHS,
    eugp_workbook,
    real_layout_sheet,
    sheet_part,
    sheet_xml,
    with_parts,
    with_sheet_xml,
    write_workbook,
)

REAL_EUGP = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
MID = "Fixed Prices - Mid"


@dataclass(frozen=True)
class Hostile:
    make: Callable[[date], bytes]  # the workbook for an as-of date (so that each test has its own slice)
    error_code: str  # for a harmless one: the run's status
    detail: str  # a part of the message the person who uploaded it reads
    file_name: str = "EOD_EUGP_{day:%Y%m%d}_1430.xlsx"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, payload in members.items():
            archive.writestr(member, payload)
    return buffer.getvalue()


def _part(data: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(member)


def not_a_zip(day: date) -> bytes:
    """A CSV export saved under an .xlsx name."""
    return f"date,location,product,mid\n{day},EU,Dutch_TTF,31.2\n".encode()


def truncated(day: date) -> bytes:
    """The real EUGP workbook cut in half (an interrupted copy)."""
    data = REAL_EUGP.read_bytes()
    return data[: len(data) // 2]


def zip_bomb(day: date) -> bytes:
    """A valid workbook plus a member of 300 MB of zeros: 0.3 MB compressed."""
    zeros = (bytes(1024 * 1024) for _ in range(300))
    return with_parts(eugp_workbook(asof=day), {"xl/media/zeros.bin": zeros})


def macros(day: date) -> bytes:
    """A macro-enabled workbook (.xlsm: a VBA project and its content type) renamed .xlsx."""
    data = eugp_workbook(asof=day)
    types = _part(data, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "Module1"\nSub AutoOpen()\nEnd Sub\n'
    return with_parts(data, {"[Content_Types].xml": types, "xl/vbaProject.bin": vba})


def zip_not_a_workbook(day: date) -> bytes:
    """A ZIP archive holding a text file."""
    return _zip({"readme.txt": b"prices attached"})


def far_cell(day: date) -> bytes:
    """One cell at XFD1048576: a 17-billion-cell grid for a reader that allocates the sheet densely."""
    body = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    return with_sheet_xml(write_workbook({MID: []}), {MID: sheet_xml(body)})


def huge_dimension(day: date) -> bytes:
    """A real-layout workbook whose sheets declare the whole grid (A1:XFD1048576) as their dimension."""
    data = eugp_workbook(asof=day)
    parts = {}
    for sheet in ("Fixed Prices - Mid", "Fixed Prices - BidAsk"):
        part = sheet_part(data, sheet)
        parts[part] = re.sub(
            rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', _part(data, part)
        )
    return with_parts(data, parts)


def billion_laughs(day: date) -> bytes:
    """Nested entity declarations in sharedStrings.xml: 10^9 'lol's if a parser expands them."""
    data = eugp_workbook(asof=day)
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    )
    shared = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    ).encode()
    return with_parts(data, {"xl/sharedStrings.xml": shared})


def entity_in_workbook_part(day: date) -> bytes:
    """The same entity bomb in xl/workbook.xml, which the archive reads itself to find the sheets."""
    data = eugp_workbook(asof=day)
    workbook = _part(data, "xl/workbook.xml")
    bomb = b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    return with_parts(data, {"xl/workbook.xml": re.sub(rb"(<\?xml[^>]*\?>)", rb"\1" + bomb, workbook)})


def external_link(day: date) -> bytes:
    """An external link to a hostile target (a local file and a URL): its cached values are what count."""
    data = eugp_workbook(asof=day)
    link = (
        b'<?xml version="1.0" encoding="UTF-8"?><externalLink '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Prices"/></sheetNames></externalBook>'
        b"</externalLink>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLinkPath" Target="file:///etc/passwd" TargetMode="External"/></Relationships>'
    )
    return with_parts(
        data,
        {"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": rels},
    )


def formulas(day: date) -> bytes:
    """Prices written as formulas (with their cached results) and one formula with none."""
    data = eugp_workbook(asof=day)
    part = sheet_part(data, MID)
    xml = _part(data, part)
    # The first price cell becomes =1+1 cached as its price; the next one =WEBSERVICE(...), no cached value.
    cells = re.findall(rb'<c r="([C-Z]\d+)"( s="\d+")?><v>([^<]*)</v></c>', xml)
    (first, style1, value1), (second, _, _) = cells[0], cells[1]
    xml = xml.replace(
        b'<c r="' + first + b'"' + style1 + b"><v>" + value1 + b"</v></c>",
        b'<c r="' + first + b'"' + style1 + b"><f>1+1</f><v>" + value1 + b"</v></c>",
        1,
    )
    xml = re.sub(
        rb'<c r="' + second + rb'"( s="\d+")?><v>[^<]*</v></c>',
        b'<c r="' + second + b'"><f>WEBSERVICE("http://example.invalid/")</f></c>',
        xml,
        count=1,
    )
    return with_parts(data, {part: xml})


def wrong_sheet_names(day: date) -> bytes:
    """The real layout under the sheet names of another export."""
    sheet = real_layout_sheet(
        [("Location", ["EU"]), ("Product", ["Dutch_TTF"]), ("PEAK", ["NA"])],
        MONTHS,
        [[30.0], [31.0], [32.0]],
        marker="Mid",
        asof=day,
    )
    return write_workbook({"Prices": sheet, "Sheet2": []})


def dates_as_text(day: date) -> bytes:
    """The as-of and the tenors typed as text ("03/01/2019" as spec 5.1 reads it, MM/DD/YYYY; "Sep-25")."""
    return eugp_workbook(
        asof=day.strftime("%m/%d/%Y"),
        tenors=[month.strftime("%b-%y") for month in MONTHS],
    )


def unicode_names(day: date) -> bytes:
    """Locations and products with accents, an RTL override and a zero-width joiner."""
    return eugp_workbook(
        asof=day, locations=("Zürich", "\u202eUK"), products=("Gas\u200dTTF", "NBP_€"), blocks=("NA", "NA")
    )


def empty_workbook(day: date) -> bytes:
    """The real layout with every price cell blank."""
    return eugp_workbook(asof=day, mids=[["", ""]] * 3, bid_asks=[["", ""]] * 3)


REFUSED_AT_UPLOAD: dict[str, Hostile] = {
    "not a zip": Hostile(not_a_zip, "not_xlsx", "is not an .xlsx workbook (it is not a ZIP archive)."),
    "truncated zip": Hostile(truncated, "corrupt_workbook", "is damaged or truncated"),
    "zip bomb": Hostile(zip_bomb, "expansion_limit", "would expand to 300.0 MB; the limit is 256.0 MB."),
    "macros (.xlsm renamed)": Hostile(
        macros, "not_xlsx", "holds VBA macros (a macro-enabled .xlsm workbook)"
    ),
    "zip, not a workbook": Hostile(
        zip_not_a_workbook, "not_xlsx", "is a ZIP archive but not an Excel workbook"
    ),
    "no vendor in the name": Hostile(
        lambda day: eugp_workbook(asof=day),
        "unknown_vendor",
        "cannot tell the vendor from the file name",
        file_name="prices_{day:%Y%m%d}.xlsx",
    ),
}

FAILED_BY_THE_RUN: dict[str, Hostile] = {
    "entity bomb in workbook.xml": Hostile(
        entity_in_workbook_part, "corrupt_workbook", "contains XML entity declarations"
    ),
    "far cell": Hostile(far_cell, "expansion_limit", "1,048,576 rows x 16,384 columns"),
    "billion laughs in sharedStrings": Hostile(
        billion_laughs,
        "corrupt_workbook",
        ": part xl/sharedStrings.xml contains XML entity declarations, which workbooks never need.",
    ),
    "wrong sheet names": Hostile(
        wrong_sheet_names,
        "layout_mismatch",
        "there is no 'Fixed Prices - Mid' sheet (sheets found: 'Prices', 'Sheet2')",
    ),
    "empty workbook": Hostile(empty_workbook, "empty_workbook", "has no prices"),
}

HARMLESS: dict[str, Hostile] = {
    "huge dimension declaration": Hostile(huge_dimension, "succeeded", ""),
    "external link to a local file": Hostile(external_link, "succeeded", ""),
    "formulas": Hostile(formulas, "succeeded", ""),
    "dates as text": Hostile(dates_as_text, "succeeded", ""),
    "unicode in names": Hostile(unicode_names, "succeeded_with_quarantine", ""),
}
