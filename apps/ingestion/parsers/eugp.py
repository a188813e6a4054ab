"""EUGP (European gas, power and carbon). Spec 5.1, with its quirky original mapping kept for `curve_key`.

The `Location` row (EU/UK/EE) becomes iso *and* market, the `Product` row (Belgium, Dutch_TTF, ..., EUA, UKA)
becomes location, the `PEAK` row (NA/BASE/PEAK/EMISSIONS) the block, `Spark Location` (or `Spark`) the spark
location, and product is the sheet prefix (`fixed prices`, `strips`, `spark spread`). The corrected meaning
goes to the extra columns: `commodity` (gas for NA blocks, power for BASE/PEAK, carbon for EMISSIONS,
spark_spread on the Spark Spread sheet) and `unit_note` (columns such as `NBP_USDMMBTU` are in USD/MMBtu).
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
    "location": "location",
    "product": "product",
    "peak": "block",
    "spark location": "spark_location",
    "spark": "spark_location",
    "units": "units",
}
SPARK_SPREAD_SHEET = "Spark Spread"
_COMMODITY_WORDS = frozenset({"gas", "power", "carbon"})


def commodity(sheet_name: str, product_row: str | None, block: str | None) -> str:
    """Infer what an EUGP column prices from its sheet, `Product` value and `PEAK` value."""
    if sheet_name == SPARK_SPREAD_SHEET:
        return "spark_spread"
    if product_row and product_row.strip().lower() in _COMMODITY_WORDS:
        return product_row.strip().lower()
    block_code = (block or "").strip().upper()
    if block_code == "EMISSIONS":
        return "carbon"
    if block_code in ("BASE", "PEAK"):
        return "power"
    return "gas"


def identify(layout: SheetLayout, column: int) -> ColumnIdentity:
    """Map one EUGP column to its (original, quirky) identity plus the corrected attributes."""
    location_row = layout.header_value("location", column)
    product_row = layout.header_value("product", column)
    block = layout.header_value("block", column)
    location = product_row or location_row
    units_raw, units_source, unit_note = resolve_units(layout, column, product_row)
    return ColumnIdentity(
        asset_class=ORIGINAL_ASSET_CLASS,
        iso=location_row,
        region=derive_region(location_row, location),
        location=location,
        market=location_row,
        product=sheet_prefix(layout.name),
        block=block,
        spark_location=layout.header_value("spark_location", column),
        units_raw=units_raw,
        units_source=units_source,
        commodity=commodity(layout.name, product_row, block),
        unit_note=unit_note,
    )


SPEC = VendorSpec(
    code="EUGP",
    sheet_pairs=(
        ("Fixed Prices - Mid", "Fixed Prices - BidAsk"),
        ("Strips - Mid", "Strips - BidAsk"),
        (SPARK_SPREAD_SHEET, None),
    ),
    header_labels=HEADER_LABELS,
    required_headers=frozenset({"location", "product", "block"}),
    identity_headers=frozenset({"location", "product", "block", "spark_location"}),
    carry_forward=True,
    identify=identify,
)
