"""Arrow → response bodies: the small-page (Python) and large-page (DuckDB) JSON paths agree exactly."""

import datetime
import json
import math

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _as_orjson_writes(table: pa.Table, columns: list[str]) -> bytes:
    """The oracle: the page as orjson writes Python's rows (dates and timestamps as Arrow's text)."""
    values = {}
    for name in columns:
        column = table.column(name)
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            column = column.cast(pa.string())
        values[name] = column.to_pylist()
    rows = [{name: values[name][i] for name in columns} for i in range(table.num_rows)]
    return orjson.dumps(rows)


def _typed(body: bytes) -> list[dict[str, tuple[str, object]]]:
    return [{k: (type(v).__name__, v) for k, v in row.items()} for row in json.loads(body)]


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F6FF).filter(
        lambda c: not 0xD800 <= ord(c) <= 0xDFFF
    ),
    max_size=12,
)
_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**6).map(float))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.none() | _TEXT,
            st.none() | _FLOAT,
            st.none() | st.integers(-(2**62), 2**62),
            st.none() | st.booleans(),
            st.none() | st.dates(datetime.date(1900, 1, 1), datetime.date(2200, 12, 31)),
            st.none() | st.sampled_from(["MID", "BID", 'a "quoted" \\ one', "tab\there", "Zürich ⚡"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_small_page_reads_back_as_the_rows_orjson_writes(rows: list[tuple[object, ...]]) -> None:
    """The same values of the same JSON types (a float never reads back as an int), whatever the text."""
    names = ["text", "price", "count", "flag", "day", "label"]
    types = [pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32(), pa.large_string()]
    table = pa.table(
        {
            name: pa.array([row[i] for row in rows], kind)
            for i, (name, kind) in enumerate(zip(names, types, strict=True))
        }
    )

    assert _typed(arrow.arrow_json(table, names)) == _typed(_as_orjson_writes(table, names))


def test_whole_floats_keep_their_point_and_other_types_go_through_orjson() -> None:
    """A dictionary-encoded column and a timestamp column too."""
    table = pa.table(
        {
            "mid": pa.array([100.0, -0.0, 1e16, 5e-324, None], pa.float64()),
            "coded": pa.array(["x", "y", "x", None, 'q"'], pa.string()).dictionary_encode(),
            "at": pa.array([datetime.datetime(2025, 1, 2, 3, 4, 5)] * 4 + [None], pa.timestamp("us")),
        }
    )

    body = arrow.arrow_json(table, ["mid", "coded", "at"])

    assert _typed(body) == _typed(_as_orjson_writes(table, ["mid", "coded", "at"]))
    assert body.startswith(b'[{"mid":100.0,"coded":"x","at":"2025-01-02 03:04:05.000000"},{"mid":-0.0,')
