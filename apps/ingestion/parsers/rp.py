"""RP (RECs/RINs, oil products, LNG, emissions; about 367 curves). Spec 5.1.

`Location` becomes location and market, `Product` the product (else the sheet prefix), iso is `US` unless the
location mentions Canada, block and spark location are NULL, and region is derived from that iso (so NULL), as
in the original. The unlabelled row above `Location` (US/EU/AP/ME), which the original never captured, goes to
`vendor_region`; `commodity` is inferred from the product name. The regional duplicate sheets (`North
America`, `Europe`, `Asia`, `Renewables - LNG`) are not read.
"""

from __future__ import annotations

import re
from functools import lru_cache

from apps.ingestion.parsers.identity import derive_region
from apps.ingestion.parsers.layout import SheetLayout
from apps.ingestion.parsers.vendor_spec import (
    ORIGINAL_ASSET_CLASS,
    ColumnIdentity,
    VendorSpec,
    resolve_units,
    sheet_prefix,
)

HEADER_LABELS = {"location": "location", "product": "product", "units": "units"}

# First match wins, so the specific families come before the broad oil vocabulary.
_COMMODITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rec", re.compile(r"renewable energy (credit|certificate)|alternative energy credit")),
    ("rin", re.compile(r"\b(rin|rvo|d[3-6])\b")),
    ("carbon", re.compile(r"carbon allow|carbon offset|greenhouse gas|low carbon fuel|\bcca\b")),
    ("lng", re.compile(r"\blng\b")),
    ("biofuel", re.compile(r"biodiesel|ethanol|\bhvo\b|ucome|\bfame\b|\bsme\b|rapeseed|soybean")),
    ("chemicals", re.compile(r"methanol|ammonia|\bmtbe\b")),
    (
        "oil",
        re.compile(
            r"fuel|gasoil|diesel|\bjet\b|gasoline|naphtha|naptha|ulsd|usld|bob\b|mogas|kero|heating oil|"
            r"bitumen|crude|brent|\bwti\b|hsfo|marine|propane|residual|\bunl\b|no\. [26]|\d% ny"
        ),
    ),
)


@lru_cache(maxsize=4096)
def commodity(product: str | None) -> str:
    """Infer the commodity of an RP product name (`other` when nothing matches)."""
    text = (product or "").lower()
    for name, pattern in _COMMODITY_PATTERNS:
        if pattern.search(text):
            return name
    return "other"


def identify(layout: SheetLayout, column: int) -> ColumnIdentity:
    """Map one RP column to its (original) identity plus the corrected attributes."""
    location = layout.header_value("location", column)
    product_row = layout.header_value("product", column)
    iso = "US" if location and "canada" not in location.lower() else None
    region_row = layout.unlabelled_row_above("location")
    units_raw, units_source, unit_note = resolve_units(layout, column, product_row)
    return ColumnIdentity(
        asset_class=ORIGINAL_ASSET_CLASS,
        iso=iso,
        region=derive_region(iso, location),
        location=location,
        market=location,
        product=product_row or sheet_prefix(layout.name),
        block=None,
        spark_location=None,
        units_raw=units_raw,
        units_source=units_source,
        commodity=commodity(product_row),
        unit_note=unit_note,
        vendor_region=region_row[column] if region_row is not None and column < len(region_row) else None,
    )


def check_sheet(layout: SheetLayout) -> str | None:
    """An RP sheet has an unlabelled region row directly above `Location`; EUGP and PW sheets do not."""
    if layout.unlabelled_row_above("location") is None:
        return "it has no unlabelled region row (US/EU/AP/ME) above the 'Location' row"
    return None


SPEC = VendorSpec(
    code="RP",
    sheet_pairs=(
        ("Fixed Prices - Mid", "Fixed Prices - BidAsk"),
        ("Seasonal Blocks - Mid", "Seasonal Blocks - BidAsk"),
    ),
    header_labels=HEADER_LABELS,
    required_headers=frozenset({"location", "product"}),
    identity_headers=frozenset({"location", "product"}),
    carry_forward=True,
    identify=identify,
    check_sheet=check_sheet,
)
