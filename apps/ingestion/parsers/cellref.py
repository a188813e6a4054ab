"""A1 cell references of parsed values (`C12`), built a whole column at a time.

Sheets are read from A1 with blank leading rows and columns kept (`archive.SafeWorkbook.rows`), so a value's
row and column indices in the grid are its position in the sheet: column index 0 is `A`, row index 0 is `1`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apps.ingestion.parsers.layout import SheetLayout


def column_letters(index: int) -> str:
    """Return the letters of a 0-based column index (0 -> `A`, 25 -> `Z`, 26 -> `AA`, 16383 -> `XFD`)."""
    if index < 0:
        raise ValueError(f"column index {index} is negative")
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def cell_references(layout: SheetLayout, cells: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Return the A1 reference of each value cell of `layout`, null where `present` is False.

    `cells` index the sheet's value cells curve by curve (column-major, as `workbook._cells_by_curve` lists
    them): cell `i` is in value column `i // len(tenors)` and data row `i % len(tenors)`.
    """
    tenor_count = max(len(layout.tenors), 1)
    safe = np.where(cells >= 0, cells, 0)
    letters = pa.array([column_letters(column) for column in layout.value_columns], pa.string())
    numbers = pa.array([str(index + 1) for index in layout.data_row_indices], pa.string())
    if len(letters) == 0 or len(numbers) == 0:
        return pa.nulls(len(cells), pa.string())
    references = pc.binary_join_element_wise(
        letters.take(pa.array(safe // tenor_count, pa.int64())),
        numbers.take(pa.array(safe % tenor_count, pa.int64())),
        "",
    )
    keep = cells >= 0 if present is None else (cells >= 0) & present
    if bool(keep.all()):
        return references
    return pc.if_else(pa.array(keep, pa.bool_()), references, pa.scalar(None, pa.string()))
