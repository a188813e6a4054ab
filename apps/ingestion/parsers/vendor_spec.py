"""What a vendor module declares: sheets, header labels, and how a sheet column becomes a curve identity."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from apps.ingestion.parsers.layout import UNITS_FIELD, SheetLayout
from apps.ingestion.parsers.units import embedded_units, normalise_units
from aurum.lakehouse.curve_schema import (
    UNITS_FROM_COLUMN_NAME,
    UNITS_FROM_UNITS_ROW,
    UNITS_FROM_VENDOR_DEFAULT,
)

# The parsers always emit `power` (spec 2.1); the real commodity goes to the `commodity` column.
ORIGINAL_ASSET_CLASS = "power"


@dataclass(frozen=True, slots=True)
class ColumnIdentity:
    """The identity and attributes of one curve column of one sheet."""

    asset_class: str
    iso: str | None
    region: str | None
    location: str | None
    market: str | None
    product: str | None
    block: str | None
    spark_location: str | None
    units_raw: str | None
    units_source: str
    commodity: str | None
    unit_note: str | None
    vendor_region: str | None = None


@dataclass(frozen=True)
class VendorSpec:
    """A vendor's workbook contract.

    `sheet_pairs` lists (Mid sheet, BidAsk sheet or None) in parse order; the first Mid sheet is mandatory.
    `header_labels` maps normalised row labels to header fields. Every parsed sheet must carry the
    `required_headers`; `check_sheet` may report one more vendor-specific layout problem as text.
    `identity_headers` are the headers that identify a curve: a column with none of them has no curve key.
    """

    code: str
    sheet_pairs: tuple[tuple[str, str | None], ...]
    header_labels: Mapping[str, str]
    required_headers: frozenset[str]
    identity_headers: frozenset[str]
    carry_forward: bool
    identify: Callable[[SheetLayout, int], ColumnIdentity]
    check_sheet: Callable[[SheetLayout], str | None] | None = None

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """Every sheet this vendor reads, Mid sheets first within each pair."""
        names: list[str] = []
        for mid, bid_ask in self.sheet_pairs:
            names.append(mid)
            if bid_ask is not None:
                names.append(bid_ask)
        return tuple(names)


def sheet_prefix(sheet_name: str) -> str:
    """Return the part of a sheet name before ` - `, lower-cased (`Fixed Prices - Mid` -> `fixed prices`)."""
    return sheet_name.split(" - ")[0].strip().lower()


def resolve_units(
    layout: SheetLayout, column: int, *header_texts: str | None
) -> tuple[str | None, str, str | None]:
    """Return (units_raw, units_source, unit_note) for a column.

    A `Units` row wins, even when this column's cell is blank (that row is then quarantined for missing
    units). Otherwise units written into the column's header text are used, else none (enrichment applies
    defaults).
    """
    note = embedded_units(*header_texts)
    if UNITS_FIELD in layout.headers:
        return normalise_units(layout.header_value(UNITS_FIELD, column)), UNITS_FROM_UNITS_ROW, note
    if note is not None:
        return note, UNITS_FROM_COLUMN_NAME, note
    return None, UNITS_FROM_VENDOR_DEFAULT, None
