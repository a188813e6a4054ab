"""`parse_workbook`: one vendor EOD workbook in, one Arrow table of curve rows out (spec 5.1).

Steps: pick the vendor (argument, else file name), open the archive safely, read each of the vendor's sheets
into a `SheetLayout`, check the layout is the vendor's, resolve the as-of date, then per Mid sheet left-join
its BidAsk sheet on (curve_key, tenor_type, tenor_label, contract_month, price_type), fill a missing mid from
(bid + ask) / 2, set value = mid and drop rows with no value at all.

The join keeps the original's many-to-many behaviour: two columns with the same identity (units are not part
of it) multiply, as the PW golden file expects. `quality.quarantine_split` later collapses exact duplicates
and quarantines conflicting ones. Enrichment (currency, per_unit, unit defaults) is a separate step, `enrich`.

Rows are built column-wise: a sheet's cells are converted at once (`cells`), joined with a vectorised left
join (`join`), and identity / tenor attributes are computed once per column / row and expanded with Arrow
`take`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apps.ingestion.parsers import eugp, pw, rp, simple
from apps.ingestion.parsers.archive import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    Limits,
    SafeWorkbook,
    archive_check,
    read_source,
)
from apps.ingestion.parsers.asof import TEXT_SCAN_SHEETS, resolve_asof
from apps.ingestion.parsers.cellref import cell_references
from apps.ingestion.parsers.cells import bid_ask_values, mid_values
from apps.ingestion.parsers.errors import EmptyWorkbookError, LayoutMismatchError, UnknownVendorError
from apps.ingestion.parsers.identity import curve_key, version_hash
from apps.ingestion.parsers.join import left_join
from apps.ingestion.parsers.layout import SheetLayout, Tenor, read_layout
from apps.ingestion.parsers.stamp import FileStamp, file_stamp
from apps.ingestion.parsers.vendor_spec import ColumnIdentity, VendorSpec
from aurum.lakehouse.curve_schema import CURVE_TABLE_SCHEMA

VENDORS: dict[str, VendorSpec] = {spec.code: spec for spec in (pw.SPEC, eugp.SPEC, rp.SPEC, simple.SPEC)}
PRICE_TYPE = "MID"
DEFAULT_FILE_NAME = "workbook.xlsx"
_STRING = pa.string()

# curve_key's argument order (spec 2.1): asset_class|iso|region|location|market|product|block|spark_location.
_KEY_ORDER = ("asset_class", "iso", "region", "location", "market", "product", "block", "spark_location")
_CURVE_ATTRIBUTES = (*_KEY_ORDER, "units_raw", "commodity", "unit_note", "vendor_region", "units_source")


@dataclass(frozen=True)
class ParseResult:
    """The rows of one workbook and how they were obtained.

    `rows` has the `curve.observation.v1` columns in Avro order followed by `schema.EXTRA_FIELDS`.
    `sheet_counts` is the number of price cells read per sheet (Mid and BidAsk sheets alike); `timings` are in
    milliseconds (`read`, `open`, `load`, `layout`, `build`, `total`). `stamp` orders two workbooks of one
    (dataset, as-of): the file name's `_HHMM`, else the workbook's modified time (`parsers.stamp`).
    """

    vendor: str
    asof_date: date
    asof_source: str
    source_file: str
    rows: pa.Table
    sheet_counts: dict[str, int]
    timings: dict[str, float]
    warnings: tuple[str, ...] = ()
    stamp: FileStamp | None = None

    def rows_per_sheet(self) -> dict[str, int]:
        """Return the number of output rows per `sheet_name`, in first-seen order."""
        counts = pc.value_counts(self.rows.column("sheet_name")).to_pylist()
        return {entry["values"]: entry["counts"] for entry in counts}


def detect_vendor(file_name: str) -> str | None:
    """Return the vendor code written as a token of the file name (`EOD_RP_20250912_1430.xlsx` -> `RP`)."""
    for token in re.split(r"[^A-Z0-9]+", file_name.upper()):
        if token in VENDORS:
            return token
    return None


def workbook_precheck(data: bytes, *, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """What ``parse_workbook`` checks before reading a sheet: the vendor in the name, the size, the archive.
    Raises the same ``WorkbookError`` it would; passing says nothing about the sheets."""
    _vendor_spec(None, filename)
    read_source(data, display_name=filename, max_bytes=max_bytes)
    archive_check(data, name=filename, limits=Limits(max_bytes=max_bytes))


def parse_workbook(
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    filename: str | None = None,
    as_of: date | None = None,
    vendor: str | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> ParseResult:
    """Parse a vendor EOD workbook (a path or its bytes) into canonical curve rows.

    `filename` is the original file name (defaults to the path's name); it becomes `source_file` and is used
    to detect the vendor and the as-of date. `vendor` and `as_of` override detection. Raises a `WorkbookError`
    subclass, with a stable `code`, for anything that is not a parseable workbook of that vendor.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if filename is None and not isinstance(path_or_bytes, bytes | bytearray | memoryview):
        filename = Path(path_or_bytes).name
    source_file = filename or DEFAULT_FILE_NAME
    spec = _vendor_spec(vendor, source_file)

    mark = time.perf_counter()
    data = read_source(path_or_bytes, display_name=source_file, max_bytes=max_bytes)
    timings["read"] = _elapsed(mark)

    mark = time.perf_counter()
    limits = Limits(max_bytes=max_bytes, max_uncompressed_bytes=max_uncompressed_bytes, max_cells=max_cells)
    book = SafeWorkbook(
        data,
        name=source_file,
        limits=limits,
        wanted_sheets=lambda names: [*spec.sheet_names, *names[:TEXT_SCAN_SHEETS]],
    )
    timings["open"] = _elapsed(mark)
    try:
        layouts, load_ms, layout_ms = _read_layouts(book, spec)
        timings["load"], timings["layout"] = load_ms, layout_ms
        warnings = _check_layouts(spec, layouts, book.sheet_names, source_file)
        asof, asof_warnings = resolve_asof(
            override=as_of,
            date_cells=[(name, layout.asof_cell) for name, layout in layouts.items()],
            file_name=source_file,
            text_sheets=lambda: (book.rows(name) for name in book.sheet_names[:TEXT_SCAN_SHEETS]),
        )
        stamp = file_stamp(source_file, book.modified)
    finally:
        book.close()

    mark = time.perf_counter()
    builder = _TableBuilder(source_file=source_file, asof=asof.value, ingest_ts=datetime.now(UTC))
    for mid_name, bid_ask_name in spec.sheet_pairs:
        if mid_name in layouts:
            builder.add_sheet(spec, layouts[mid_name], layouts.get(bid_ask_name) if bid_ask_name else None)
    table = builder.table()
    timings["build"] = _elapsed(mark)
    if table.num_rows == 0:
        raise EmptyWorkbookError(
            f"{source_file} has no prices: sheets {', '.join(repr(name) for name in layouts)} hold no "
            "numeric cells below their header rows.",
            filename=source_file,
        )
    timings["total"] = _elapsed(started)
    return ParseResult(
        vendor=spec.code,
        asof_date=asof.value,
        asof_source=asof.source,
        source_file=source_file,
        rows=table,
        sheet_counts=builder.sheet_counts,
        timings=timings,
        warnings=tuple(warnings + asof_warnings),
        stamp=stamp,
    )


def _elapsed(mark: float) -> float:
    return round((time.perf_counter() - mark) * 1000, 3)


def _vendor_spec(vendor: str | None, source_file: str) -> VendorSpec:
    code = vendor.strip().upper() if vendor else detect_vendor(source_file)
    if code is None:
        known = ", ".join(VENDORS)
        raise UnknownVendorError(
            f"{source_file}: cannot tell the vendor from the file name (expected one of {known} as a part "
            "of the name, as in EOD_RP_20250912_1430.xlsx). Rename the file or pass the vendor explicitly.",
            filename=source_file,
        )
    if code not in VENDORS:
        raise UnknownVendorError(
            f"{source_file}: unknown vendor {code!r}; known vendors are {', '.join(VENDORS)}.",
            filename=source_file,
        )
    return VENDORS[code]


def _read_layouts(book: SafeWorkbook, spec: VendorSpec) -> tuple[dict[str, SheetLayout], float, float]:
    layouts: dict[str, SheetLayout] = {}
    load_ms = layout_ms = 0.0
    for name in spec.sheet_names:
        if name not in book.sheet_names:
            continue
        mark = time.perf_counter()
        rows = book.rows(name)
        load_ms += _elapsed(mark)
        mark = time.perf_counter()
        layouts[name] = read_layout(
            name, rows, header_labels=spec.header_labels, carry_forward=spec.carry_forward
        )
        layout_ms += _elapsed(mark)
    return layouts, round(load_ms, 3), round(layout_ms, 3)


def _check_layouts(
    spec: VendorSpec, layouts: dict[str, SheetLayout], sheet_names: Sequence[str], source_file: str
) -> list[str]:
    """Raise LayoutMismatchError unless the sheets look like `spec`'s; return warnings to report."""
    hint = "Was the file renamed, or is the vendor wrong?"
    required = spec.sheet_pairs[0][0]
    if required not in layouts:
        found = ", ".join(repr(name) for name in sheet_names) or "none"
        raise LayoutMismatchError(
            f"{source_file} is not laid out like a {spec.code} workbook: there is no {required!r} sheet "
            f"(sheets found: {found}). {hint}",
            filename=source_file,
        )
    labels_by_field: dict[str, list[str]] = {}
    for label, header in spec.header_labels.items():
        labels_by_field.setdefault(header, []).append(label)
    for name, layout in layouts.items():
        if not layout.labels and not layout.data_rows:
            continue  # a blank sheet is treated as absent
        missing = sorted(spec.required_headers - layout.headers.keys())
        problem = None
        if missing:
            wanted = " / ".join(repr(label) for label in labels_by_field[missing[0]])
            seen = ", ".join(repr(label) for label in layout.labels) or "none"
            problem = f"it has no {wanted} header row (labels found: {seen})"
        elif spec.check_sheet is not None:
            problem = spec.check_sheet(layout)
        if problem:
            raise LayoutMismatchError(
                f"{source_file} is not laid out like a {spec.code} workbook: "
                f"in sheet {name!r} {problem}. {hint}",
                filename=source_file,
            )
    warnings = [f"sheet {name!r} not found" for name in spec.sheet_names if name not in layouts]
    known = set(spec.header_labels)
    for name, layout in layouts.items():
        ignored = [label for label in layout.labels if label not in known]
        if ignored:
            warnings.append(f"sheet {name!r}: ignored unknown header rows {', '.join(map(repr, ignored))}")
    return warnings


def _cells_by_curve(layout: SheetLayout) -> list[object]:
    """Return the value cells curve by curve (column-major), one per (value column, data row)."""
    return [
        row[column] if column < len(row) else None
        for column in layout.value_columns
        for row in layout.data_rows
    ]


@dataclass(frozen=True)
class _Sources:
    """Where each row's numbers were read: the mid's cell on the Mid sheet (null when the mid is the average
    of bid and ask), and the BidAsk sheet and cell of its bid / ask quote (null when it has none)."""

    mid_cell: pa.Array
    bid_ask_sheet: pa.Array
    bid_ask_cell: pa.Array


@dataclass
class _TableBuilder:
    """Joins each Mid sheet with its BidAsk sheet and keeps the resulting rows as Arrow tables."""

    source_file: str
    asof: date
    ingest_ts: datetime
    sheet_counts: dict[str, int] = field(default_factory=dict)
    _tables: list[pa.Table] = field(default_factory=list)
    _curve_keys: dict[tuple[str | None, ...], str] = field(default_factory=dict)
    _curve_ids: dict[str | None, int] = field(default_factory=dict)
    _tenor_ids: dict[tuple[str, str, date | None], int] = field(default_factory=dict)

    def _curves(self, spec: VendorSpec, layout: SheetLayout) -> tuple[list[ColumnIdentity], list[str | None]]:
        """Return the identity and curve key of each value column (no key for a column without identity)."""
        identities = [spec.identify(layout, column) for column in layout.value_columns]
        keys: list[str | None] = []
        for column, identity in zip(layout.value_columns, identities, strict=True):
            if not any(layout.header_value(header, column) for header in spec.identity_headers):
                keys.append(None)
                continue
            tokens = tuple(getattr(identity, name) for name in _KEY_ORDER)
            key = self._curve_keys.get(tokens)
            if key is None:
                key = self._curve_keys[tokens] = curve_key(*tokens)
            keys.append(key)
        return identities, keys

    def _join_keys(self, keys: list[str | None], tenors: list[Tenor]) -> np.ndarray:
        """Return one int64 join key per (curve, tenor) cell, curve-major: curve key id, tenor id."""
        curve_ids = np.array(
            [self._curve_ids.setdefault(key, len(self._curve_ids)) for key in keys], np.int64
        )
        tenor_ids = np.array(
            [
                self._tenor_ids.setdefault(key, len(self._tenor_ids))
                for key in ((tenor.tenor_type, tenor.label, tenor.contract_month) for tenor in tenors)
            ],
            np.int64,
        )
        return (np.repeat(curve_ids, len(tenors)) << 32) + np.tile(tenor_ids, len(keys))

    def add_sheet(self, spec: VendorSpec, mid: SheetLayout, bid_ask: SheetLayout | None) -> None:
        """Left-join `bid_ask` onto the cells of `mid`, fill missing mids, keep rows that have any value."""
        identities, keys = self._curves(spec, mid)
        mids = mid_values(_cells_by_curve(mid))
        self.sheet_counts[mid.name] = int(np.count_nonzero(~np.isnan(mids)))
        right_keys = quoted_at = np.empty(0, np.int64)
        bids = asks = np.empty(0, np.float64)
        if bid_ask is not None:
            _, bid_ask_keys = self._curves(spec, bid_ask)
            bids, asks = bid_ask_values(_cells_by_curve(bid_ask))
            quoted = ~(np.isnan(bids) & np.isnan(asks))
            self.sheet_counts[bid_ask.name] = int(np.count_nonzero(quoted))
            right_keys = self._join_keys(bid_ask_keys, bid_ask.tenors)[quoted]
            bids, asks = bids[quoted], asks[quoted]
            quoted_at = np.flatnonzero(quoted)
        left, right = left_join(self._join_keys(keys, mid.tenors), ~np.isnan(mids), right_keys)
        matched = right >= 0
        safe_right = np.where(matched, right, 0)
        row_bids = np.where(matched, bids[safe_right], np.nan) if len(bids) else np.full(len(left), np.nan)
        row_asks = np.where(matched, asks[safe_right], np.nan) if len(asks) else np.full(len(left), np.nan)
        row_mids = mids[left]
        mid_cells = cell_references(mid, left, present=~np.isnan(row_mids))
        row_mids = np.where(np.isnan(row_mids), (row_bids + row_asks) / 2, row_mids)
        sources = _Sources(mid_cells, pa.nulls(len(left), _STRING), pa.nulls(len(left), _STRING))
        if bid_ask is not None and len(quoted_at):
            bid_ask_at = np.where(matched, quoted_at[safe_right], -1)
            sources = _Sources(
                mid_cells,
                pc.if_else(pa.array(matched), pa.scalar(bid_ask.name), pa.scalar(None, _STRING)),
                cell_references(bid_ask, bid_ask_at),
            )
        tenor_count = max(len(mid.tenors), 1)
        self._tables.append(
            self._sheet_table(
                mid,
                identities,
                keys,
                left // tenor_count,
                left % tenor_count,
                row_mids,
                row_bids,
                row_asks,
                sources,
            )
        )

    def _sheet_table(
        self,
        layout: SheetLayout,
        identities: list[ColumnIdentity],
        keys: list[str | None],
        curve_at: np.ndarray,
        tenor_at: np.ndarray,
        mids: np.ndarray,
        bids: np.ndarray,
        asks: np.ndarray,
        sources: _Sources,
    ) -> pa.Table:
        count = len(curve_at)
        curve_take = pa.array(curve_at, pa.int32())
        tenor_take = pa.array(tenor_at, pa.int32())
        tenors = layout.tenors

        def per_curve(values: list[object]) -> pa.Array:
            return pa.array(values, pa.string()).take(curve_take)

        def per_tenor(values: list[object], arrow_type: pa.DataType = _STRING) -> pa.Array:
            return pa.array(values, arrow_type).take(tenor_take)

        def constant(value: object, arrow_type: pa.DataType = _STRING) -> pa.Array:
            return pa.repeat(pa.scalar(value, arrow_type), count)

        mid_array = pa.array(mids, pa.float64(), from_pandas=True)  # NaN -> null
        columns: dict[str, pa.Array] = {
            "asof_date": constant(self.asof, pa.date32()),
            "source_file": constant(self.source_file),
            "sheet_name": constant(layout.name),
            "price_type": constant(PRICE_TYPE),
            "currency": constant(None),
            "per_unit": constant(None),
            "tenor_type": per_tenor([tenor.tenor_type for tenor in tenors]),
            "contract_month": per_tenor([tenor.contract_month for tenor in tenors], pa.date32()),
            "tenor_label": per_tenor([tenor.label for tenor in tenors]),
            "value": mid_array,
            "bid": pa.array(bids, pa.float64(), from_pandas=True),
            "ask": pa.array(asks, pa.float64(), from_pandas=True),
            "mid": mid_array,
            "curve_key": per_curve(list(keys)),
            "version_hash": constant(version_hash(self.source_file, layout.name, self.asof)),
            "_ingest_ts": constant(self.ingest_ts, pa.timestamp("us", tz="UTC")),
            "is_derived": constant(False, pa.bool_()),
            "source_cell": sources.mid_cell,
            "bid_ask_sheet": sources.bid_ask_sheet,
            "bid_ask_cell": sources.bid_ask_cell,
        }
        for name in _CURVE_ATTRIBUTES:
            columns[name] = per_curve([getattr(identity, name) for identity in identities])
        return pa.Table.from_arrays(
            [columns[name] for name in CURVE_TABLE_SCHEMA.names], schema=CURVE_TABLE_SCHEMA
        )

    def table(self) -> pa.Table:
        """Return every sheet's rows as one table (an empty one when nothing was parsed)."""
        if not self._tables:
            return CURVE_TABLE_SCHEMA.empty_table()
        return pa.concat_tables(self._tables)
