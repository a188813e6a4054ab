"""A vectorised many-to-many left join on integer keys, with pandas `merge(how="left")` row order."""

from __future__ import annotations

import numpy as np


def left_join(
    left_keys: np.ndarray, keep_unmatched: np.ndarray, right_keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (left index, right index) pairs of a left join; the right index is -1 where nothing matched.

    Rows come in left order; a left row matching k right rows appears k times, its matches in right order. An
    unmatched left row appears once if `keep_unmatched` is True for it and is dropped otherwise.
    """
    left_count = len(left_keys)
    if len(right_keys) == 0:
        kept = np.flatnonzero(keep_unmatched)
        return kept, np.full(len(kept), -1, dtype=np.int64)
    order = np.argsort(right_keys, kind="stable")
    sorted_keys = right_keys[order]
    first = np.searchsorted(sorted_keys, left_keys, side="left")
    matches = np.searchsorted(sorted_keys, left_keys, side="right") - first
    repeats = np.where(matches > 0, matches, keep_unmatched.astype(np.int64))
    left_index = np.repeat(np.arange(left_count), repeats)
    group_start = np.repeat(np.cumsum(repeats) - repeats, repeats)
    position = np.repeat(first, repeats) + (np.arange(len(left_index)) - group_start)
    matched = np.repeat(matches > 0, repeats)
    right_index = np.where(matched, order[np.minimum(position, len(order) - 1)], -1)
    return left_index, right_index
