"""pyiceberg 0.12's ``Transaction.table_metadata``, computed once per staged state instead of on every read.

The property applies the transaction's staged updates to the table's metadata and returns a deep copy of the
result, and a commit reads it dozens of times (snapshot producer, manifest writers, requirements): a deep
copy of every snapshot and log entry the table has ever kept, each time. On ``market.curve_observation``
after a few days of ingests that was ~12 ms a read and 20-30 % of a slice write (issue 14, decision 0048).

Metadata models are frozen (pydantic ``frozen=True``), so handing out the same result while neither the
table's metadata nor the staged updates changed gives the same answer; the memo is keyed on the identity
of both (a commit replaces ``table.metadata``; staging replaces the ``_updates`` tuple).
"""

from __future__ import annotations

from typing import Any

from pyiceberg.table import Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import update_table_metadata

_MEMO = "_aurum_metadata_memo"


def _table_metadata(self: Transaction) -> TableMetadata:
    base, updates = self._table.metadata, self._updates
    memo: tuple[Any, Any, TableMetadata] | None = getattr(self, _MEMO, None)
    if memo is not None and memo[0] is base and memo[1] is updates:
        return memo[2]
    metadata = update_table_metadata(base, updates)
    setattr(self, _MEMO, (base, updates, metadata))
    return metadata


def transaction_metadata_memo_install() -> None:
    """Replace the property (idempotent). Called when the first lakehouse catalog is made."""
    Transaction.table_metadata = property(_table_metadata)  # type: ignore[method-assign,assignment]
