"""Arrow → response bodies: the small-page (Python) and large-page (DuckDB) JSON paths agree exactly."""

import datetime
import json
import math

import pyarrow as pa
import pytest

from aurum.api import arrow

COLUMNS = ["curve_key", "contract_month", "mid", "bid", "is_derived", "tenor_label"]


def _table(n: int) -> pa.Table:
    return pa.table(
        {
            "curve_key": [f"k{i % 7}ü" for i in range(n)],
            "contract_month": [datetime.date(2025, 1 + i % 12, 1) if i % 5 else None for i in range(n)],
            "mid": [i / 3 + 0.1 if i % 4 else None for i in range(n)],
            "bid": [-(i * 1e-7) for i in range(n)],
            "is_derived": [i % 2 == 0 for i in range(n)],
            "tenor_label": [f"2025-{1 + i % 12:02d}" for i in range(n)],
            "unused": list(range(n)),
        }
    )


@pytest.mark.parametrize("rows", [1, 173, 2500])
def test_both_json_paths_give_the_same_rows(rows: int) -> None:
    table = _table(rows)
    small = json.loads(arrow._json_small(table, COLUMNS))
    large = json.loads(arrow._json_large(table, COLUMNS))

    assert len(small) == len(large) == rows
    for a, b in zip(small, large, strict=True):
        assert a.keys() == b.keys() == set(COLUMNS)
        for key in COLUMNS:
            if isinstance(a[key], float):
                assert math.isclose(a[key], b[key], rel_tol=0, abs_tol=0) or a[key] == b[key]
            else:
                assert a[key] == b[key]
    assert small[0]["contract_month"] is None and (rows == 1 or small[1]["contract_month"] == "2025-02-01")


def test_empty_table_is_an_empty_array() -> None:
    assert arrow.arrow_json(_table(0), COLUMNS) == b"[]"


def test_small_page_bytes_are_compact_utf8_json_with_iso_dates() -> None:
    table = pa.table(
        {
            "curve_key": ['Zürich "base"'],
            "contract_month": [datetime.date(2025, 3, 1)],
            "mid": [84.25],
            "bid": [None],
            "is_derived": [True],
            "tenor_label": ["2025-03"],
        },
        schema=pa.schema(
            [
                ("curve_key", pa.string()),
                ("contract_month", pa.date32()),
                ("mid", pa.float64()),
                ("bid", pa.float64()),
                ("is_derived", pa.bool_()),
                ("tenor_label", pa.string()),
            ]
        ),
    )

    body = arrow.arrow_json(table, COLUMNS)

    expected = (
        '[{"curve_key":"Zürich \\"base\\"","contract_month":"2025-03-01","mid":84.25,"bid":null,'
        '"is_derived":true,"tenor_label":"2025-03"}]'
    )
    assert body == expected.encode()


def test_a_nan_price_on_a_small_page_is_null_not_invalid_json() -> None:
    table = pa.table({"mid": [float("nan"), 1.5], "bid": [float("inf"), None]})

    assert json.loads(arrow.arrow_json(table, ["mid", "bid"])) == [
        {"mid": None, "bid": None},
        {"mid": 1.5, "bid": None},
    ]
