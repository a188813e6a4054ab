"""SIMPLE (onboarding and testing): one `Fixed Prices - Mid` sheet, PW labels, no carry-forward. Spec 5.1."""

from __future__ import annotations

from apps.ingestion.parsers.identity import derive_region
from apps.ingestion.parsers.layout import SheetLayout
from apps.ingestion.parsers.vendor_spec import ORIGINAL_ASSET_CLASS, ColumnIdentity, VendorSpec, resolve_units

HEADER_LABELS = {
    "iso": "iso",
    "market": "market",
    "hours": "block",
    "location": "location",
    "product": "product",
    "units": "units",
}


def identify(layout: SheetLayout, column: int) -> ColumnIdentity:
    """Map one SIMPLE column to its identity; defaults as PW, but a missing product is `power`."""
    iso = layout.header_value("iso", column)
    market = layout.header_value("market", column)
    location = layout.header_value("location", column)
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
        product=layout.header_value("product", column) or "power",
        block=layout.header_value("block", column),
        spark_location=None,
        units_raw=units_raw,
        units_source=units_source,
        commodity="power",
        unit_note=unit_note,
    )


SPEC = VendorSpec(
    code="SIMPLE",
    sheet_pairs=(("Fixed Prices - Mid", None),),
    header_labels=HEADER_LABELS,
    required_headers=frozenset({"iso"}),
    identity_headers=frozenset({"iso", "market", "block", "location", "product"}),
    carry_forward=False,
    identify=identify,
)
