"""A content hash of scenario (or PPA) outputs, for comparing reruns byte for byte.

The hash ignores row order and run timestamps, and formats floats with `repr` (the shortest string that
round-trips, identical on every platform), so any change in any value, down to the last bit, changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

DEFAULT_EXCLUDE = ("computed_ts", "_ingest_ts")


def _canonical(value: Any) -> Any:
    """A JSON-ready, type-tagged form of a cell: floats as repr strings, dates as ISO, containers recursed."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value == 0.0:
            value = 0.0  # -0.0 and 0.0 are the same output
        return f"f:{value!r}"
    if isinstance(value, Decimal):
        return f"d:{value}"
    if isinstance(value, datetime | date):
        return f"t:{value.isoformat()}"
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [_canonical(item) for item in value.tolist()]
    if isinstance(value, Sequence):
        return [_canonical(item) for item in value]
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _rows(
    data: pa.Table | Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
) -> Iterable[Mapping[str, Any]]:
    if isinstance(data, pa.Table):
        return data.to_pylist()
    if isinstance(data, Mapping):
        columns = {
            name: list(values.tolist() if isinstance(values, np.ndarray) else values)
            for name, values in data.items()
        }
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        n_rows = lengths.pop() if lengths else 0
        return ({name: values[i] for name, values in columns.items()} for i in range(n_rows))
    return data


def output_content_hash(
    data: pa.Table | Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> str:
    """SHA-256 hex digest of a table's content, independent of row order and of the `exclude` columns.

    `data` is an Arrow table, a list of row dicts, or a mapping of column name to values (lists or numpy
    arrays of equal length). Repeated rows count; column order does not matter.
    """
    skip = set(exclude)
    lines = sorted(
        json.dumps(
            {key: _canonical(value) for key, value in row.items() if key not in skip},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for row in _rows(data)
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
