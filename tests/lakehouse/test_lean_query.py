"""A memoised query keeps its renderings, not its sqlglot tree (aurum/lakehouse/sql.py ``LeanQuery``): what
it renders is what the full query renders, in every variant, and it holds a fraction of the memory."""

from __future__ import annotations

import functools
import subprocess
import sys
from datetime import date

from sqlglot import exp

from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery, LeanQuery, duckdb_sql, trino_sql
from tests.support.paths import REPO

FILTERS = CurveFilters(datasets=("vendor:EUGP",), curve_keys=("k" * 64,), iso="EU", limit=10)


def _builds() -> list[functools.partial[LakehouseQuery]]:
    return [
        functools.partial(queries.curves_latest_materialised, FILTERS),
        functools.partial(queries.curves_asof, FILTERS, date(2025, 7, 1)),
        functools.partial(queries.curves_as_known_at, FILTERS, date(2025, 7, 2)),
    ]


def test_a_lean_query_renders_every_variant_as_the_full_query_does():
    for build in _builds():
        full, lean = build(), LeanQuery(build, "duckdb")
        alias = full.scans[0].alias

        assert not any(isinstance(value, exp.Expression) for value in vars(lean).values())
        assert lean.scans == full.scans
        assert duckdb_sql(lean) == duckdb_sql(full)
        assert duckdb_sql(lean, {alias: "aurum_empty_x"}) == duckdb_sql(full, {alias: "aurum_empty_x"})
        assert duckdb_sql(lean, by_field_id={alias: "v"}) == duckdb_sql(full, by_field_id={alias: "v"})
        assert trino_sql(lean) == trino_sql(full)
        assert trino_sql(lean.pinned(42)) == trino_sql(full.pinned(42))
        assert not any(isinstance(value, exp.Expression) for value in vars(lean).values())


# In a fresh interpreter, where no other thread allocates while tracemalloc counts (in the suite's process a
# test's leftover thread once added ~1 MB to the count): bytes still allocated by 60 one-curve latest queries,
# made "full" (the query with its DuckDB rendering) or "lean", while they are kept.
KEPT_PROBE = """
import functools, gc, sys, tracemalloc
from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LeanQuery, duckdb_sql

def make(i):
    build = functools.partial(queries.curves_latest_materialised,
                              CurveFilters(datasets=("vendor:EUGP",), curve_keys=(f"{i:064d}",)))
    if sys.argv[1] == "lean":
        return LeanQuery(build, "duckdb")
    query = build()
    duckdb_sql(query)
    return query

make(-1)  # the first query's one-time imports and caches are not what a query keeps
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
kept = [make(i) for i in range(60)]
gc.collect()
print(len(kept), tracemalloc.get_traced_memory()[0] - before)
"""


def _kept_bytes(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", KEPT_PROBE, mode], capture_output=True, text=True, check=True, cwd=REPO
    )
    count, size = done.stdout.split()
    assert count == "60"
    return int(size)


def test_a_lean_query_keeps_a_fifth_of_what_the_full_query_keeps_or_less():
    full_bytes, lean_bytes = _kept_bytes("full"), _kept_bytes("lean")

    # Measured 2026-12-04: 37 KB a full one-curve query with its rendering, under 5 KB its lean form.
    assert lean_bytes * 5 <= full_bytes, (lean_bytes, full_bytes)
