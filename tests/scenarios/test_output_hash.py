"""output_content_hash: order-free, timestamp-free, sensitive to the last decimal of any value."""

from __future__ import annotations

import copy
import hashlib
import random
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from apps.scenarios.engine import (
    CurveSet,
    EngineOptions,
    run_scenario,
    scenario_output_rows,
    scenario_output_table,
)
from apps.scenarios.output_hash import output_content_hash

ASOF = date(2025, 9, 12)
LABELS = [f"{2025 + (8 + t) // 12}-{(8 + t) % 12 + 1:02d}" for t in range(12)]
ASSUMPTIONS = [
    {"driver_type": "fuel_curve", "payload": {"fuel": "co2", "reference_series": "EUA"}},
    {
        "driver_type": "stochastic",
        "payload": {"distribution_type": "normal", "parameters": {"std": 0.2}, "base_driver": {}},
    },
]
ROW_OPTIONS: dict[str, Any] = {"asof_date": ASOF, "scenario_id": "scn", "tenant_id": "acme", "run_id": "r1"}


def rows(seed: int = 1, computed_ts: datetime | None = None) -> list[dict[str, Any]]:
    curves = CurveSet(
        curve_keys=("A", "B"),
        tenor_labels=tuple(LABELS),
        contract_months=np.array(LABELS, dtype="datetime64[M]"),
        mid=np.array([[50.123456789012] * 12, [30.0 + t for t in range(12)]]),
    )
    result = run_scenario(curves, ASSUMPTIONS, asof=ASOF, options=EngineOptions(seed=seed, n_paths=500))
    return scenario_output_rows(result, computed_ts=computed_ts, **ROW_OPTIONS)


def test_same_rows_in_another_order_hash_the_same() -> None:
    original = rows()
    shuffled = copy.deepcopy(original)
    random.Random(4).shuffle(shuffled)
    assert shuffled != original
    assert output_content_hash(shuffled) == output_content_hash(original)


def test_a_change_in_the_twelfth_decimal_changes_the_hash() -> None:
    original = rows()
    changed = copy.deepcopy(original)
    assert changed[0]["value"] != changed[0]["value"] + 1e-12
    changed[0]["value"] = changed[0]["value"] + 1e-12
    assert output_content_hash(changed) != output_content_hash(original)
    changed = copy.deepcopy(original)
    changed[5]["attribution"][0]["delta"] += 1e-12
    assert output_content_hash(changed) != output_content_hash(original)


def test_reruns_with_the_same_seed_hash_the_same_whatever_their_timestamps() -> None:
    first = rows(seed=9, computed_ts=datetime(2025, 9, 12, 18, 0, tzinfo=UTC))
    second = rows(seed=9, computed_ts=datetime(2025, 9, 13, 7, 30, tzinfo=UTC))
    assert output_content_hash(first) == output_content_hash(second)
    assert output_content_hash(rows(seed=10)) != output_content_hash(first)


def test_an_arrow_table_rows_and_columns_hash_alike() -> None:
    curves = CurveSet(
        curve_keys=("A",),
        tenor_labels=("2025-09",),
        contract_months=np.array(["2025-09"], dtype="datetime64[M]"),
        mid=np.array([[50.0]]),
    )
    result = run_scenario(curves, ASSUMPTIONS[:1], asof=ASOF)
    table = scenario_output_table(result, **ROW_OPTIONS)
    as_rows = table.to_pylist()
    as_columns = {name: table.column(name).to_pylist() for name in table.column_names}
    assert isinstance(table, pa.Table)
    assert output_content_hash(table) == output_content_hash(as_rows) == output_content_hash(as_columns)


def test_numpy_columns_hash_like_python_values_and_negative_zero_is_zero() -> None:
    numpy_columns = {
        "month": np.array(["2025-09", "2025-10"], dtype="datetime64[M]"),
        "value": np.array([-0.0, 1.5]),
    }
    python_rows = [{"month": date(2025, 9, 1), "value": 0.0}, {"month": date(2025, 10, 1), "value": 1.5}]
    assert output_content_hash(numpy_columns) == output_content_hash(python_rows)
    assert output_content_hash(python_rows) != output_content_hash(python_rows[:1])


def test_the_arrow_table_and_the_row_dicts_are_the_same_rows() -> None:
    base = np.array([[50.123456789012] * 12, [30.0 + t for t in range(12)]])
    base[1, 4] = np.nan
    curves = CurveSet(
        curve_keys=("A", "B"),
        tenor_labels=tuple(LABELS),
        contract_months=np.array(LABELS, dtype="datetime64[M]"),
        mid=base,
    )
    assumptions = [
        *ASSUMPTIONS,
        {"driver_type": "policy", "payload": {"policy_name": "cap", "start_year": 2026}},
    ]
    result = run_scenario(curves, assumptions, asof=ASOF, options=EngineOptions(n_paths=300))
    options = {**ROW_OPTIONS, "metrics": ("mid", "uplift", "policy_uplift")}
    stamp = datetime(2025, 9, 12, tzinfo=UTC)
    table = scenario_output_table(result, computed_ts=stamp, **options)
    as_rows = scenario_output_rows(result, computed_ts=stamp, **options)
    assert table.num_rows == len(as_rows) == 3 * 23
    assert table.to_pylist() == as_rows
    with_hash = scenario_output_table(result, version_hash="input-hash", **options)
    assert set(with_hash.column("version_hash").to_pylist()) == {"input-hash"}


def test_a_string_column_hashes_to_its_documented_canonical_bytes() -> None:
    """Given strings with a null, a multi-byte character and a slice of a longer array, the digest is the
    module's documented form built here by hand: rows sorted (nulls first), then validity bytes, b"u", the
    lengths in characters as int64, and the UTF-8 of the values one after another (nulls as "")."""
    whole = pa.array(["zz", "b", None, "é€", "a", "yy"], pa.string())
    table = pa.table({"s": whole.slice(1, 4)})  # b, None, é€, a: an array with a non-zero offset
    expected = hashlib.sha256(b"rows=4")
    expected.update(b"\x1es\x1f")
    expected.update(bytes([0, 1, 1, 1]))  # sorted: None, a, b, é€
    expected.update(b"u" + np.array([0, 1, 1, 2], dtype=np.int64).tobytes())
    expected.update("abé€".encode())
    assert output_content_hash(table) == expected.hexdigest()
    split_one_way, split_another = pa.table({"s": ["a", "bé€"]}), pa.table({"s": ["ab", "é€"]})
    assert output_content_hash(split_one_way) != output_content_hash(split_another)


def test_columns_without_nulls_hash_to_their_documented_canonical_bytes() -> None:
    """Given date, integer and float columns without a null (a run's usual columns), the digest is the
    documented form built by hand: rows sorted by every column, then per column its validity bytes (all 1),
    its kind tag and its values (days as int32, integers as int64, floats as float64 with -0.0 as 0.0)."""
    table = pa.table(
        {
            "x": pa.array([-0.0, 1.5], pa.float64()),
            "n": pa.array([2, 1], pa.int32()),
            "d": pa.array([date(2025, 9, 2), date(2025, 9, 1)], pa.date32()),
        }
    )
    expected = hashlib.sha256(b"rows=2")
    days = np.array(["2025-09-01", "2025-09-02"], dtype="datetime64[D]").astype(np.int32)
    expected.update(b"\x1ed\x1f" + b"\x01\x01" + b"t" + days.tobytes())
    expected.update(b"\x1en\x1f" + b"\x01\x01" + b"i" + np.array([1, 2], dtype=np.int64).tobytes())
    expected.update(b"\x1ex\x1f" + b"\x01\x01" + b"f" + np.array([1.5, 0.0]).tobytes())
    assert output_content_hash(table) == expected.hexdigest()


def test_ascii_strings_hash_to_their_documented_bytes_as_string_and_as_large_string() -> None:
    """Given ASCII strings (one byte a character: the hash takes their lengths from the offsets) with a
    null and a non-zero offset, the digest is the documented form, the same for string and large_string."""
    whole = ["zz", "bbb", None, "", "a", "yy"]
    expected = hashlib.sha256(b"rows=4")
    expected.update(b"\x1es\x1f")
    expected.update(bytes([0, 1, 1, 1]))  # sorted: None, "", a, bbb
    expected.update(b"u" + np.array([0, 0, 1, 3], dtype=np.int64).tobytes())
    expected.update(b"abbb")
    for kind in (pa.string(), pa.large_string()):
        table = pa.table({"s": pa.array(whole, kind).slice(1, 4)})
        assert output_content_hash(table) == expected.hexdigest(), kind
