"""Writes on the curve catalog."""

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from apps.curves.models import Curve

_IDENTITY = ("asset_class", "iso", "region", "location", "market", "product", "block", "spark_location")
_ATTRIBUTES = ("commodity", "unit_note", "vendor_region", "units_raw", "currency", "per_unit")


def curve_catalog_upsert(*, published: pa.Table, dataset: str, vendor: str) -> int:
    """Record every curve of a published slice: identity, attributes, as-of range, tenor count.

    Returns the number of curves touched. One slice holds one as-of date.
    """
    summary = curve_catalog_summary(published)
    if summary is None:
        return 0
    grouped, first_rows = summary
    existing = {
        c.curve_key: c for c in Curve.objects.filter(curve_key__in=grouped.column("curve_key").to_pylist())
    }
    curves = []
    for i, key in enumerate(grouped.column("curve_key").to_pylist()):
        asof: date = grouped.column("asof_date_min")[i].as_py()
        row = first_rows[key]
        before = existing.get(key)
        curves.append(
            Curve(
                curve_key=key,
                dataset=dataset,
                vendor=vendor,
                **{name: row[name] or "" for name in _IDENTITY + _ATTRIBUTES},
                sheet_names=sorted(
                    set(grouped.column("sheet_name_distinct")[i].as_py())
                    | set(before.sheet_names if before else [])
                ),
                first_asof=min(asof, before.first_asof) if before else asof,
                last_asof=max(asof, before.last_asof) if before else asof,
                tenor_count=(
                    grouped.column("tenor_label_count_distinct")[i].as_py()
                    if before is None or asof >= before.last_asof
                    else before.tenor_count
                ),
            )
        )
    fields = [
        f
        for f in (
            "dataset",
            "vendor",
            *_IDENTITY,
            *_ATTRIBUTES,
            "sheet_names",
            "first_asof",
            "last_asof",
            "tenor_count",
        )
    ]
    Curve.objects.bulk_create(
        curves, update_conflicts=True, unique_fields=["curve_key"], update_fields=fields, batch_size=1000
    )
    return len(curves)


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
    """The identity and attributes of each curve, from its first row."""
    keys = table.column("curve_key").to_pylist()
    columns = {name: table.column(name).to_pylist() for name in _IDENTITY + _ATTRIBUTES}
    first: dict[str, dict[str, str | None]] = {}
    for i, key in enumerate(keys):
        if key not in first:
            first[key] = {name: columns[name][i] for name in columns}
    return first
