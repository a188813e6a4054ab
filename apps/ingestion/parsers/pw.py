"""PW (North American power; ISO forward marks). Spec 5.1.

Labels `ISO:`, `Market:`, `Hours:`, `Location:`, `Product:`, `Spark Location:` (or `Spark:`) and `Units:` map
to the identity fields of the same name (`Hours` -> block). A missing location becomes the market or ISO, a
missing market the ISO, a missing product the sheet prefix in lower case.
"""

from __future__ import annotations

from apps.ingestion.parsers.identity import derive_region
from apps.ingestion.parsers.layout import SheetLayout
from apps.ingestion.parsers.vendor_spec import (
    ORIGINAL_ASSET_CLASS,
    ColumnIdentity,
    VendorSpec,
    resolve_units,
    sheet_prefix,
)

HEADER_LABELS = {
    "iso": "iso",
    "market": "market",
    "hours": "block",
    "location": "location",
    "product": "product",
    "spark location": "spark_location",
    "spark": "spark_location",
    "units": "units",
}


def identify(layout: SheetLayout, column: int) -> ColumnIdentity:
    """Map one PW column to its identity; a missing product is the sheet prefix in lower case."""
    return identify_power_column(layout, column, default_product=sheet_prefix(layout.name))


def identify_power_column(layout: SheetLayout, column: int, *, default_product: str) -> ColumnIdentity:
    """The PW label mapping (shared by SIMPLE): a missing location is the market or ISO, a missing market the
    ISO (or location)."""
    iso = layout.header_value("iso", column)
    market = layout.header_value("market", column)
    location = layout.header_value("location", column)
    product = layout.header_value("product", column)
    if not location:
        location = market or iso
    if not market:
        market = iso or location
    units_raw, units_source, unit_note = resolve_units(layout, column)
    return ColumnIdentity(
        asset_class=ORIGINAL_ASSET_CLASS,
        iso=iso,
        region=derive_region(iso, location),
        location=location,
        market=market,
        product=product or default_product,
        block=layout.header_value("block", column),
        spark_location=layout.header_value("spark_location", column),
        units_raw=units_raw,
        units_source=units_source,
        commodity="power",
        unit_note=unit_note,
    )


SPEC = VendorSpec(
    code="PW",
    sheet_pairs=(("Fixed Prices - Mid", "Fixed Prices - BidAsk"), ("Strips - Mid", "Strips - BidAsk")),
    header_labels=HEADER_LABELS,
    required_headers=frozenset({"iso"}),
    identity_headers=frozenset({"iso", "market", "block", "location", "product", "spark_location"}),
    carry_forward=True,
    identify=identify,
)
