"""A content hash of scenario (or PPA) outputs, for comparing reruns bit for bit.

The hash ignores row order, column order and run timestamps; any change in any value, down to the last bit of
a float, changes it (``-0.0`` counts as ``0.0``). It is computed column by column over Arrow buffers (a run's
10,200 rows hash in a few milliseconds; a row-by-row JSON canonicalisation took ~300 ms and dominated a run):

1. the input becomes an Arrow table (row dicts and column mappings are converted the same way);
2. rows are put in a canonical order: sorted by every scalar column, in column-name order;
3. each column, in name order, contributes its name, a kind tag and a canonical byte form of its values
   (int64 / float64 / date32 days / timestamp[us] / UTF-8 strings with lengths / validity), nested lists
   their offsets and then their children, structs each field.

Rows that tie on every scalar column but differ in a nested column may hash differently in another input
order; scenario and PPA outputs never tie (their key columns are unique per row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_EXCLUDE = ("computed_ts", "_ingest_ts")


def _as_table(data: pa.Table | Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, Mapping):
        columns = {
            name: values.tolist() if isinstance(values, np.ndarray) else list(values)
            for name, values in data.items()
        }
        if len({len(values) for values in columns.values()}) > 1:
            raise ValueError("all columns must have the same length")
        return pa.table(columns)
    return pa.Table.from_pylist(list(data))


def _scalar(kind: pa.DataType) -> bool:
    return not (pa.types.is_nested(kind) or pa.types.is_null(kind))


def _validity(array: pa.Array) -> bytes:
    if not array.null_count:  # the common case: one byte 1 a value, without converting the bitmap
        return b"\x01" * len(array)
    return np.asarray(array.is_valid()).tobytes()


def _filled(array: pa.Array, value: Any) -> pa.Array:
    return pc.fill_null(array, value) if array.null_count else array


def _utf8(text: pa.Array) -> tuple[np.ndarray, memoryview]:
    """The lengths in characters (int64) and the concatenated UTF-8 of a string or large_string array
    without nulls (= ``"".join(values).encode()``), straight from its buffers: no Python string per value (a
    run's 10,200 rows x 8 string columns). ASCII values (the usual case) are one byte a character, so their
    lengths are the offsets' differences; otherwise Arrow counts the characters."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64), memoryview(b"")
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    _, offsets_buffer, data = text.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=width)[text.offset : text.offset + len(text) + 1]
    values = memoryview(data)[int(offsets[0]) : int(offsets[-1])] if data is not None else memoryview(b"")
    if not len(values) or np.frombuffer(values, dtype=np.uint8).max() < 0x80:
        return np.diff(offsets).astype(np.int64), values
    return np.asarray(pc.utf8_length(text)).astype(np.int64), values


def _feed(digest: Any, array: pa.Array) -> None:
    """Canonical bytes of one (combined, zero-offset-agnostic) array into ``digest`` (a tag, then the
    values' bytes; fed in parts, which hashes as their concatenation)."""
    kind = array.type
    digest.update(_validity(array))
    if pa.types.is_floating(kind):
        values = pc.add(_filled(array.cast(pa.float64()), 0.0), 0.0)  # -0.0 + 0.0 == 0.0
        digest.update(b"f")
        digest.update(np.asarray(values))
    elif pa.types.is_boolean(kind):
        digest.update(b"b" + np.asarray(_filled(array, False)).astype(np.uint8).tobytes())
    elif pa.types.is_integer(kind):
        digest.update(b"i")
        digest.update(np.ascontiguousarray(np.asarray(_filled(array.cast(pa.int64()), 0))))
    elif pa.types.is_date(kind):
        days = array.cast(pa.date32()).cast(pa.int32())
        digest.update(b"t")
        digest.update(np.ascontiguousarray(np.asarray(_filled(days, 0))))
    elif pa.types.is_timestamp(kind):
        micros = array.cast(pa.timestamp("us", tz=kind.tz)).cast(pa.int64())
        digest.update(b"s")
        digest.update(np.ascontiguousarray(np.asarray(_filled(micros, 0))))
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_decimal(kind):
        lengths, values = _utf8(_filled(array.cast(pa.string()) if pa.types.is_decimal(kind) else array, ""))
        digest.update(b"u")
        digest.update(lengths)
        digest.update(values)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        offsets = np.asarray(array.offsets).astype(np.int64)
        digest.update(b"l" + (offsets - offsets[0]).tobytes())
        _feed(digest, array.flatten())
    elif pa.types.is_struct(kind):
        digest.update(b"r")
        for index in sorted(range(kind.num_fields), key=lambda i: kind.field(i).name):
            digest.update(kind.field(index).name.encode() + b"\x00")
            _feed(digest, array.field(index))
    elif pa.types.is_null(kind):
        digest.update(b"n")
    else:
        raise TypeError(f"cannot hash a {kind} column")


def output_content_hash(
    data: pa.Table | Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    *,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> str:
    """SHA-256 hex digest of a table's content, independent of row order and of the ``exclude`` columns.

    ``data`` is an Arrow table, a list of row dicts, or a mapping of column name to values (lists or numpy
    arrays of equal length). Repeated rows count; column order does not matter.
    """
    table = _as_table(data)
    names = sorted(name for name in table.column_names if name not in set(exclude))
    table = table.select(names)
    keys = [(name, "ascending", "at_start") for name in names if _scalar(table.schema.field(name).type)]
    order = pc.sort_indices(table, sort_keys=keys) if keys and table.num_rows > 1 else None
    digest = hashlib.sha256(f"rows={table.num_rows}".encode())
    for name in names:
        digest.update(b"\x1e" + name.encode() + b"\x1f")
        column = table.column(name).combine_chunks()  # one array: a column's take, not the table's (faster)
        _feed(digest, column if order is None else column.take(order))
    return digest.hexdigest()
