"""Curve identity (`curve_key`), sheet-slice identity (`version_hash`) and the ISO-to-region map (spec 2.1).

Both hashes are compatibility contracts with the original Aurum: the golden fixtures fix them byte for byte,
so changing anything here orphans every stored curve.
"""

from __future__ import annotations

import hashlib
from datetime import date

# ISO (or hub) code -> region, exactly the original map. Keys are upper case.
ISO_REGIONS: dict[str, str] = {
    "PJM": "US",
    "MISO": "US",
    "SPP": "US",
    "ERCOT": "US",
    "NYISO": "US",
    "ISONE": "US",
    "CAISO": "US",
    "IESO": "CA",
    "AESO": "CA",
    "NBP": "EU",
    "TTF": "EU",
    "EUA": "EU",
    "CEGH": "EU",
    "PEG": "EU",
    "UKA": "EU",
    "EU": "EU",
    "AP": "APAC",
}


def normalise_token(value: str | None) -> str:
    """Return `value` trimmed, with inner whitespace collapsed to one space and lower-cased; NULL becomes
    ''."""
    if value is None:
        return ""
    return " ".join(value.split()).lower()


def curve_key(
    asset_class: str | None,
    iso: str | None,
    region: str | None,
    location: str | None,
    market: str | None,
    product: str | None,
    block: str | None,
    spark_location: str | None,
) -> str:
    """Return the lowercase SHA-256 hex of the eight normalised identity tokens joined with `|`."""
    tokens = (asset_class, iso, region, location, market, product, block, spark_location)
    raw = "|".join(normalise_token(token) for token in tokens)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def version_hash(source_file: str, sheet_name: str, asof: date | str) -> str:
    """Return the SHA-256 hex of `source_file|sheet_name|asof|` (each value followed by `|`, as-of in ISO)."""
    digest = hashlib.sha256()
    asof_text = asof.isoformat() if isinstance(asof, date) else asof
    for value in (source_file, sheet_name, asof_text):
        digest.update((value or "").encode("utf-8"))
        digest.update(b"|")
    return digest.hexdigest()


def derive_region(iso: str | None, location: str | None) -> str | None:
    """Return the region of an ISO code, else of the location, else None (the original lookup order)."""
    for candidate in (iso, location):
        if candidate:
            region = ISO_REGIONS.get(candidate.strip().upper())
            if region is not None:
                return region
    return None
