"""Derived strips: CALENDAR and QUARTER averages of a curve's MONTHLY points (spec 2.1 "Derived strips").

For each (curve_key, asof_date) the mid, bid and ask of the MONTHLY rows are averaged (arithmetic mean) into
`Calendar YYYY` rows (contract_month = Jan 1) and `Q# YYYY` rows (contract_month = first month of the
quarter), price_type MID, `is_derived` True, and a version_hash of their own:
`version_hash(source_file, f"{sheet_name} (derived {TENOR_TYPE})", asof)`.

Decisions:
- Only complete periods: all 12 (or 3) months must be present. An average over part of a quarter is a price
  for a different delivery period, and a trader reading `Q4 2025` would take it at face value.
- The mid average needs every month's mid; bid and ask averages are NULL unless every month has that side.
- A month with two rows that disagree (mid, bid, ask or units) makes its periods undecidable, so they are
  skipped; exact duplicates count once. Months in different units are never averaged together.
- A derived row is not produced when the input already has a row with that (curve_key, tenor_label,
  asof_date), e.g. the vendor's own `Calendar 2026` strip: the quoted strip wins and the unique key stays
  unique.
Every other column (identity, units, source file, sheet, `_ingest_ts`, extras) is copied from the period's
first month.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apps.ingestion.parsers.identity import version_hash

UNIQUE_KEY = ["curve_key", "tenor_label", "asof_date"]
_CURVE = ["curve_key", "asof_date"]
# (tenor_type, grouping columns beyond the curve, months per period)
_PERIODS = (("CALENDAR", ["year"], 12), ("QUARTER", ["year", "quarter"], 3))


def _months(table: pa.Table) -> pa.Table:
    """One row per (curve_key, asof_date, month) of the dated MONTHLY source rows, with an `ambiguous` flag.

    `row` is the first source row of that month (the template of a derived row); a month whose rows disagree
    on mid, bid, ask or units is `ambiguous`.
    """
    is_source = pc.and_(
        pc.and_(pc.equal(table.column("tenor_type"), "MONTHLY"), pc.is_valid(table.column("contract_month"))),
        pc.and_(
            pc.invert(pc.fill_null(table.column("is_derived"), False)), pc.is_valid(table.column("curve_key"))
        ),
    )
    rows = np.flatnonzero(pc.fill_null(is_source, False).to_numpy(zero_copy_only=False))
    source = table.take(pa.array(rows, pa.int64()))
    units = pc.binary_join_element_wise(
        *[pc.fill_null(source.column(name), "") for name in ("units_raw", "currency", "per_unit")], "/"
    )
    keyed = pa.table(
        {
            "curve_key": source.column("curve_key"),
            "asof_date": source.column("asof_date"),
            "contract_month": source.column("contract_month"),
            "units": units,
            "mid": source.column("mid"),
            "bid": source.column("bid"),
            "ask": source.column("ask"),
            "row": pa.array(rows, pa.int64()),
        }
    )
    distinct = keyed.group_by(keyed.column_names[:-1], use_threads=False).aggregate([("row", "min")])
    per_month = distinct.group_by([*_CURVE, "contract_month"]).aggregate(
        [("row_min", "min"), ("row_min", "count")]
    )
    firsts = pa.table({"row": per_month.column("row_min_min"), "versions": per_month.column("row_min_count")})
    months = keyed.join(firsts, keys="row", join_type="inner")
    return (
        months.append_column("ambiguous", pc.greater(months.column("versions"), 1))
        .append_column("year", pc.year(months.column("contract_month")))
        .append_column("quarter", pc.quarter(months.column("contract_month")))
    )


def _period_rows(months: pa.Table, tenor_type: str, period: list[str], size: int) -> pa.Table:
    """Average the complete periods of `months`: one row per curve, as-of and period, plus a template row."""
    grouped = months.group_by([*_CURVE, *period], use_threads=False).aggregate(
        [
            ("contract_month", "count_distinct"),
            ("ambiguous", "any"),
            ("units", "count_distinct"),
            ("mid", "count"),
            ("mid", "mean"),
            ("bid", "count"),
            ("bid", "mean"),
            ("ask", "count"),
            ("ask", "mean"),
            ("row", "min"),
        ]
    )
    complete = pc.and_(
        pc.and_(
            pc.equal(grouped.column("contract_month_count_distinct"), size),
            pc.invert(grouped.column("ambiguous_any")),
        ),
        pc.and_(
            pc.equal(grouped.column("units_count_distinct"), 1), pc.equal(grouped.column("mid_count"), size)
        ),
    )
    grouped = grouped.filter(complete)
    year = grouped.column("year").to_numpy()
    if tenor_type == "CALENDAR":
        first_month = np.ones(len(year), dtype=np.int64)
        label = pc.binary_join_element_wise("Calendar", pc.cast(grouped.column("year"), pa.string()), " ")
    else:
        quarter = grouped.column("quarter").to_numpy()
        first_month = 3 * quarter - 2
        label = pc.binary_join_element_wise(
            pc.binary_join_element_wise("Q", pc.cast(grouped.column("quarter"), pa.string()), ""),
            pc.cast(grouped.column("year"), pa.string()),
            " ",
        )
    months_since_epoch = (year - 1970) * 12 + (first_month - 1)
    contract_month = months_since_epoch.astype("datetime64[M]").astype("datetime64[D]")

    def side_mean(side: str) -> pa.Array:
        full = pc.equal(grouped.column(f"{side}_count"), size)
        return pc.if_else(full, grouped.column(f"{side}_mean"), pa.scalar(None, pa.float64()))

    return pa.table(
        {
            "curve_key": grouped.column("curve_key"),
            "asof_date": grouped.column("asof_date"),
            "tenor_type": pa.repeat(pa.scalar(tenor_type), grouped.num_rows),
            "tenor_label": label,
            "contract_month": pa.array(contract_month, pa.date32()),
            "mid": grouped.column("mid_mean"),
            "bid": side_mean("bid"),
            "ask": side_mean("ask"),
            "row": grouped.column("row_min"),
        }
    )


def derived_strips(table: pa.Table) -> pa.Table:
    """Return the derived CALENDAR and QUARTER rows for `table` (same columns; possibly no rows)."""
    months = _months(table)
    periods = pa.concat_tables(_period_rows(months, *period) for period in _PERIODS)
    existing = table.select(UNIQUE_KEY)
    periods = periods.join(existing, keys=UNIQUE_KEY, join_type="left anti").sort_by(
        [("row", "ascending"), ("contract_month", "ascending"), ("tenor_type", "ascending")]
    )
    result = table.take(periods.column("row"))
    count = periods.num_rows
    replacements = {
        "tenor_type": periods.column("tenor_type"),
        "tenor_label": periods.column("tenor_label"),
        "contract_month": periods.column("contract_month"),
        "price_type": pa.repeat(pa.scalar("MID"), count),
        "mid": periods.column("mid"),
        "value": periods.column("mid"),
        "bid": periods.column("bid"),
        "ask": periods.column("ask"),
        "version_hash": _strip_version_hashes(result, periods.column("tenor_type")),
        "is_derived": pa.repeat(pa.scalar(True), count),
        # An average of monthly points is in no cell; the months' rows keep their own references.
        "source_cell": pa.nulls(count, pa.string()),
        "bid_ask_sheet": pa.nulls(count, pa.string()),
        "bid_ask_cell": pa.nulls(count, pa.string()),
    }
    for name, column in replacements.items():
        result = result.set_column(result.schema.get_field_index(name), name, column)
    return result


_SEPARATOR = "\x1f"


def _strip_version_hashes(result: pa.Table, tenor_type: pa.ChunkedArray) -> pa.Array:
    """Each strip row's version hash, of (source file, "<sheet> (derived <tenor type>)", as-of): computed
    once per distinct slice (a handful per workbook) and spread by dictionary indices, not row by row."""
    parts = [
        result.column("source_file"),
        result.column("sheet_name"),
        tenor_type,
        pc.cast(result.column("asof_date"), pa.string()),  # ISO, as version_hash writes a date
    ]
    joined = pc.binary_join_element_wise(*parts, _SEPARATOR)  # null where any part is null
    encoded = joined.combine_chunks().dictionary_encode()
    keys = [value.split(_SEPARATOR) for value in encoded.dictionary.to_pylist()]
    if encoded.null_count or any(len(key) != len(parts) for key in keys):  # the slow, exact way
        rows = zip(*(part.to_pylist() for part in parts), strict=True)
        return pa.array([version_hash(f, f"{s} (derived {t})", a) for f, s, t, a in rows], pa.string())
    hashes = pa.array([version_hash(f, f"{s} (derived {t})", a) for f, s, t, a in keys], pa.string())
    return pc.take(hashes, encoded.indices)
