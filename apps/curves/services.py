"""Writes on the curve catalog."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection

from apps.curves.models import Curve

_IDENTITY = ("asset_class", "iso", "region", "location", "market", "product", "block", "spark_location")
_ATTRIBUTES = ("commodity", "unit_note", "vendor_region", "units_raw", "currency", "per_unit")


def curve_catalog_upsert(*, published: pa.Table, dataset: str, vendor: str) -> int:
    """Record every curve of a published slice: identity, attributes, as-of range, tenor count.

    Returns the number of curves touched. One slice holds one as-of date. One statement for the whole slice
    (decision 0058): the rows go in as arrays and Postgres merges each with the curve already catalogued: the
    as-of range widens, the sheet names are the union (sorted by code point), the tenor count and the
    identity are the newest slice's, and an older slice arriving late leaves the tenor count as it was.
    Keys in sorted order, so two ingests touching the same curves lock them in the same order.
    """
    summary = curve_catalog_summary(published)
    if summary is None:
        return 0
    grouped, first_rows = summary
    grouped = grouped.sort_by("curve_key")
    keys = grouped.column("curve_key").to_pylist()
    columns: list[list[object]] = [keys]
    columns += [[first_rows[key][name] or "" for key in keys] for name in _IDENTITY + _ATTRIBUTES]
    columns.append(
        [json.dumps(sorted(set(names))) for names in grouped.column("sheet_name_distinct").to_pylist()]
    )
    columns.append(grouped.column("asof_date_min").to_pylist())
    columns.append(grouped.column("tenor_label_count_distinct").to_pylist())
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, [dataset, vendor, *columns])
    return len(keys)


_TEXT_COLUMNS = ("curve_key", *_IDENTITY, *_ATTRIBUTES)
_TABLE = Curve._meta.db_table
_UPSERT_SQL = f"""
INSERT INTO "{_TABLE}" (dataset, vendor, {", ".join(_TEXT_COLUMNS)}, sheet_names, first_asof, last_asof,
                        tenor_count, updated)
SELECT %s, %s, {", ".join(f"s.{name}" for name in _TEXT_COLUMNS)}, s.sheets::jsonb, s.asof, s.asof, s.tenors,
       now()
FROM unnest({", ".join("%s::text[]" for _ in _TEXT_COLUMNS)}, %s::text[], %s::date[], %s::integer[])
     AS s({", ".join(_TEXT_COLUMNS)}, sheets, asof, tenors)
ON CONFLICT (curve_key) DO UPDATE SET
    {", ".join(f"{name} = EXCLUDED.{name}" for name in ("dataset", "vendor", *_IDENTITY, *_ATTRIBUTES))},
    sheet_names = (
        SELECT coalesce(jsonb_agg(name ORDER BY name COLLATE "C"), '[]'::jsonb)
        FROM (
            SELECT jsonb_array_elements_text("{_TABLE}".sheet_names)
            UNION SELECT jsonb_array_elements_text(EXCLUDED.sheet_names)
        ) AS names(name)
    ),
    first_asof = LEAST("{_TABLE}".first_asof, EXCLUDED.first_asof),
    last_asof = GREATEST("{_TABLE}".last_asof, EXCLUDED.last_asof),
    tenor_count = CASE WHEN EXCLUDED.last_asof >= "{_TABLE}".last_asof THEN EXCLUDED.tenor_count
                       ELSE "{_TABLE}".tenor_count END,
    updated = EXCLUDED.updated
"""


def curve_catalog_summary(
    published: pa.Table,
) -> tuple[pa.Table, dict[str, dict[str, str | None]]] | None:
    """Per curve of a published slice's quoted rows: the grouped tenor count, first as-of and sheet names,
    and the identity of its first row; None when the slice quotes nothing. Writes nothing (the ingest
    warm-up runs it too, apps/ingestion/warmup.py)."""
    quoted = published.filter(pc.invert(pc.fill_null(published.column("is_derived"), False)))
    if quoted.num_rows == 0:
        return None
    # tenor_count counts the tenors the vendor quotes; derived strips are computed from them.
    grouped = quoted.group_by("curve_key").aggregate(
        [("tenor_label", "count_distinct"), ("asof_date", "min"), ("sheet_name", "distinct")]
    )
    return grouped, _first_row_per_key(quoted)


def _first_row_per_key(table: pa.Table) -> dict[str, dict[str, str | None]]:
    """The identity and attributes of each curve, from its first row: the first row's index per key found
    by Arrow, then only those rows converted (a slice's ~35,000 rows were ~490,000 Python values)."""
    row_numbers = pa.array(np.arange(table.num_rows, dtype=np.int64))
    numbered = table.select(["curve_key"]).append_column("row", row_numbers)
    firsts = numbered.group_by("curve_key", use_threads=False).aggregate([("row", "min")])
    rows = table.select(["curve_key", *_IDENTITY, *_ATTRIBUTES]).take(firsts.column("row_min"))
    return {row.pop("curve_key"): row for row in rows.to_pylist()}
