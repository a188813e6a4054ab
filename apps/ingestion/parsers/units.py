"""Vendor unit text: normalisation, the `units_map.csv` lookup, and ISO and region defaults (spec 2.2).

Default extension: `EE` (the EUGP vendor's Eastern-European power hubs: HU, RO, BG, PL, SI, CZ, SK, RS) maps
to EUR/MWh. The original map has no entry for it, so every EE row ended in quarantine although the marks are
plainly EUR/MWh (e.g. Poland BASE ~94, which would be ~400 in PLN).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

ISO_DEFAULT_UNITS: dict[str, tuple[str, str]] = {
    "US": ("USD", "MWh"),
    "UK": ("GBP", "MWh"),
    "NBP": ("GBP", "MWh"),
    "TTF": ("EUR", "MWh"),
    "EUA": ("EUR", "MWh"),
    "EE": ("EUR", "MWh"),
}
REGION_DEFAULT_UNITS: dict[str, tuple[str, str]] = {
    "US": ("USD", "MWh"),
    "CA": ("CAD", "MWh"),
    "EU": ("EUR", "MWh"),
    "APAC": ("USD", "MWh"),
}

_SYMBOLS = {"€": "EUR", "£": "GBP"}
_SPACED_DASH = re.compile(r"\s+-\s+")
_WHITESPACE = re.compile(r"\s+")
# Unit text inside a column's own header, e.g. EUGP's `Dutch_TTF_USDMMBTU`.
_EMBEDDED_UNITS = re.compile(
    r"(?:^|[_\s(])(USD|EUR|GBP|CAD)[_/ ]?(MMBTU|MWH|THERM|BBL|GAL|TONNE)(?:$|[_\s)])", re.IGNORECASE
)


def normalise_units(text: str | None) -> str | None:
    """Return vendor unit text normalised: currency symbols spelt out, ` - ` read as `/`, no spaces, upper
    case.

    `CAD - MWh` -> `CAD/MWH`, `€/MWh` -> `EUR/MWH`, `$ / MWh` -> `$/MWH`; `$/MW-day` keeps its hyphen.
    """
    if text is None:
        return None
    for symbol, code in _SYMBOLS.items():
        text = text.replace(symbol, code)
    text = _WHITESPACE.sub("", _SPACED_DASH.sub("/", text.strip())).upper()
    return text or None


@lru_cache(maxsize=4096)
def embedded_units(*texts: str | None) -> str | None:
    """Return the units written inside header text (`NBP_USDMMBTU` -> `USD/MMBTU`), or None."""
    for text in texts:
        if text:
            match = _EMBEDDED_UNITS.search(text)
            if match:
                return f"{match.group(1).upper()}/{match.group(2).upper()}"
    return None


def units_key(units_raw: str) -> str:
    """Return the `units_map.csv` lookup key: upper case, spaces removed."""
    return units_raw.upper().replace(" ", "")


@lru_cache(maxsize=8)
def _load_units_map(path: str, mtime_ns: int) -> dict[str, tuple[str, str]]:
    mapping: dict[str, tuple[str, str]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"units_raw", "currency", "per_unit"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} lacks the columns {sorted(missing)}")
        for row in reader:
            raw = (row["units_raw"] or "").strip()
            if raw:
                mapping[units_key(raw)] = ((row["currency"] or "").strip(), (row["per_unit"] or "").strip())
    return mapping


def load_units_map(path: str | Path) -> dict[str, tuple[str, str]]:
    """Return `units_map.csv` as {lookup key: (currency, per_unit)}; cached until the file changes."""
    resolved = Path(path).resolve()
    return _load_units_map(str(resolved), resolved.stat().st_mtime_ns)


def default_units(iso: str | None, region: str | None) -> tuple[str | None, str | None]:
    """Return the (currency, per_unit) default for an ISO, else for a region, else (None, None)."""
    if iso and iso.strip().upper() in ISO_DEFAULT_UNITS:
        return ISO_DEFAULT_UNITS[iso.strip().upper()]
    if region and region.strip().upper() in REGION_DEFAULT_UNITS:
        return REGION_DEFAULT_UNITS[region.strip().upper()]
    return None, None
