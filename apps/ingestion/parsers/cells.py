"""Price cells to numbers, a whole sheet at a time (NaN marks a missing value; non-finite input is missing).

- A Mid cell is a number, or numeric text (thousands commas and surrounding spaces allowed).
- A BidAsk cell is text `"bid / ask"`, split on `/` with commas removed, or a single number used for both
  sides. A side that is not a number is missing; a cell with more than one `/` is missing altogether.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NUMBER = r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$"


def parse_number(cell: object) -> float | None:
    """Return one cell as a finite float (number, or numeric text with thousands commas), else None."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        number = float(cell)
    elif isinstance(cell, str):
        try:
            number = float(cell.replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _numeric_cells(cells: Sequence[object]) -> np.ndarray:
    """Numbers as float64; text, blanks and anything else as NaN."""
    values = np.fromiter(
        (cell if type(cell) is float else math.nan for cell in cells), np.float64, len(cells)
    )
    for index in [i for i, cell in enumerate(cells) if type(cell) is int]:
        values[index] = float(cells[index])  # type: ignore[arg-type]
    values[~np.isfinite(values)] = math.nan
    return values


def _text_at(cells: Sequence[object]) -> list[int]:
    return [index for index, cell in enumerate(cells) if type(cell) is str and not cell.isspace() and cell]


def _text_numbers(strings: pa.Array) -> np.ndarray:
    """Return each string as float64 (commas and surrounding spaces ignored), NaN when it is not a number."""
    trimmed = pc.utf8_trim_whitespace(pc.replace_substring(strings, ",", ""))
    try:
        numbers = pc.cast(trimmed, pa.float64())
    except pa.ArrowInvalid:  # at least one string is not a number: null those out first
        valid = pc.match_substring_regex(trimmed, _NUMBER)
        numbers = pc.cast(pc.if_else(valid, trimmed, pa.scalar(None, pa.string())), pa.float64())
    values = numbers.to_numpy(zero_copy_only=False)
    return np.where(np.isfinite(values), values, math.nan)


def mid_values(cells: Sequence[object]) -> np.ndarray:
    """Return the Mid cells as float64, NaN where a cell holds no number."""
    values = _numeric_cells(cells)
    text_at = _text_at(cells)
    if text_at:
        values[text_at] = _text_numbers(pa.array([cells[index] for index in text_at], pa.string()))
    return values


def bid_ask_values(cells: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Return (bid, ask) of BidAsk cells as float64 arrays, NaN where a side is missing."""
    numbers = _numeric_cells(cells)
    bids, asks = numbers.copy(), numbers.copy()
    text_at = _text_at(cells)
    if text_at:
        parts = pc.split_pattern(pa.array([cells[index] for index in text_at], pa.string()), "/")
        sides = np.asarray(pc.list_value_length(parts))
        starts = np.asarray(parts.offsets)[:-1]
        flat = _text_numbers(pc.list_flatten(parts))
        padded = np.append(flat, math.nan)  # index len(flat) reads as missing
        missing = len(flat)
        bid_at = np.where(sides <= 2, starts, missing)
        ask_at = np.where(sides == 2, starts + 1, np.where(sides == 1, starts, missing))
        bids[text_at] = padded[bid_at]
        asks[text_at] = padded[ask_at]
    return bids, asks
