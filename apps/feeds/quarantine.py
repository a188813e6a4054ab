"""Enforcing a feed's contract at write (decision 0035): the rows must have the contract's schema (else the
fetch fails, ``contract_schema``, nothing written), and rows failing a quality rule are held back with the
rules' names (the same ``QualityRule`` shape and pass masks as the EOD pipeline's ``parsers.quality``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from apps.feeds.adapters.base import FetchError
from apps.ingestion.parsers.quality import QualityRule, evaluate_rules
from aurum.datasets.contracts import DatasetContract, schema_violations


def feed_rows_split(contract: DatasetContract, table: pa.Table) -> tuple[pa.Table, list[dict[str, Any]]]:
    """(rows to write, quarantined rows each as ``{"row": …, "reasons": [...]}``); FetchError
    ``contract_schema`` when the table breaks the contract's schema."""
    problems = schema_violations(contract, table)
    if problems:
        raise FetchError("contract_schema", f"{contract.id}: {'; '.join(problems)}")
    rules = [rule for rule in contract.rules if isinstance(rule, QualityRule) and rule.quarantines]
    if not rules or table.num_rows == 0:
        return table, []
    passed = evaluate_rules(table, rules)
    bad = np.zeros(table.num_rows, dtype=bool)
    for mask in passed.values():
        bad |= ~mask
    if not bad.any():
        return table, []
    held = []
    for index in np.flatnonzero(bad):
        reasons = [name for name, mask in passed.items() if not mask[index]]
        row = {k: v for k, v in table.slice(int(index), 1).to_pylist()[0].items()}
        held.append({"row": json.loads(json.dumps(row, default=str)), "reasons": reasons})
    return table.filter(pa.array(~bad)), held
