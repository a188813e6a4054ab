"""Enrichment: currency and per_unit for every row (spec 2.2 and 5.1).

A missing currency or per_unit is taken from `units_map.csv` (key: `units_raw` upper-cased without spaces),
then from the ISO default, then from the region default (`units.default_units`); each field is filled on its
own.

Rows whose sheet states no units at all (`units_source == "vendor_default"`: the real EUGP and RP layouts) get
`units_raw` spelt from the default they received, e.g. `EUR/MWH`, so the vendor's documented convention is
recorded instead of quarantining every such row for `missing_units_raw`. A sheet that has a units row but
leaves a column's cell blank keeps `units_raw` NULL and is quarantined: that is a genuine gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from apps.ingestion.parsers.units import default_units, load_units_map, units_key
from aurum.lakehouse.curve_schema import UNITS_FROM_VENDOR_DEFAULT

_INPUTS = ("units_raw", "iso", "region", "currency", "per_unit", "units_source")
_NULL = "\x00"
_SEPARATOR = "\x1f"


def _present(value: str | None) -> str | None:
    return value if value is not None and value.strip() and value != _NULL else None


def _resolve(
    combination: list[str | None], units_map: dict[str, tuple[str, str]]
) -> tuple[str | None, str | None, str | None]:
    """Return the enriched (units_raw, currency, per_unit) of one combination of the `_INPUTS` values."""
    units_raw, iso, region, currency, per_unit, units_source = combination
    if (currency is None or per_unit is None) and units_raw is not None:
        mapped_currency, mapped_unit = units_map.get(units_key(units_raw), (None, None))
        currency = currency or _present(mapped_currency)
        per_unit = per_unit or _present(mapped_unit)
    if currency is None or per_unit is None:
        default_currency, default_unit = default_units(iso, region)
        currency = currency or default_currency
        per_unit = per_unit or default_unit
    if units_raw is None and units_source == UNITS_FROM_VENDOR_DEFAULT and currency and per_unit:
        units_raw = f"{currency}/{per_unit}".upper()
    return units_raw, currency, per_unit


def enrich(table: pa.Table, units_map: str | Path | Mapping[str, tuple[str, str]]) -> pa.Table:
    """Return `table` with currency, per_unit (and vendor-default units_raw) filled; other columns unchanged.

    `units_map` is a units_map.csv path or an already loaded mapping (units key -> (currency, per_unit)).

    Resolves each distinct (units_raw, iso, region, currency, per_unit, units_source) combination once and
    expands the answers with a dictionary take, so the cost hardly depends on the row count.
    """
    if table.num_rows == 0:
        return table
    units = load_units_map(units_map) if isinstance(units_map, str | Path) else dict(units_map)
    combination = pc.binary_join_element_wise(
        *[pc.fill_null(table.column(name), _NULL) for name in _INPUTS], _SEPARATOR
    )
    encoded = pc.dictionary_encode(pa.concat_arrays(combination.chunks))
    answers = [
        _resolve([_present(part) for part in key.split(_SEPARATOR)], units)
        for key in encoded.dictionary.to_pylist()
    ]
    result = table
    for position, name in enumerate(("units_raw", "currency", "per_unit")):
        column = pa.array([answer[position] for answer in answers], pa.string()).take(encoded.indices)
        result = result.set_column(result.schema.get_field_index(name), name, column)
    return result
