"""SIMPLE (onboarding and testing): one `Fixed Prices - Mid` sheet, PW labels, no carry-forward. Spec 5.1."""

from __future__ import annotations

from apps.ingestion.parsers.layout import SheetLayout
from apps.ingestion.parsers.pw import identify_power_column
from apps.ingestion.parsers.vendor_spec import ColumnIdentity, VendorSpec

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
    return identify_power_column(layout, column, default_product="power")


SPEC = VendorSpec(
    code="SIMPLE",
    sheet_pairs=(("Fixed Prices - Mid", None),),
    header_labels=HEADER_LABELS,
    required_headers=frozenset({"iso"}),
    identity_headers=frozenset({"iso", "market", "block", "location", "product"}),
    carry_forward=False,
    identify=identify,
)
