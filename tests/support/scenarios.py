"""Real curves for scenario tests: a real EUGP workbook ingested as its own (dataset, as-of) slice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from tests.support.paths import EOD_DIR
from tests.support.slices import read_slice

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
EUGP_0911 = EOD_DIR / "EOD_EUGP_20250911_1430.xlsx"
BASE_DAY = date(2025, 6, 2)
N_CURVES = 8


@dataclass(frozen=True)
class CurveSlice:
    asof: date
    curve_keys: tuple[str, ...]
    rows: pa.Table  # the slice's rows of those curves

    def mids(self, curve_key: str) -> dict[str, float]:
        """tenor_label -> mid of one curve, straight from the ingested rows."""
        mine = self.rows.filter(pc.equal(self.rows.column("curve_key"), curve_key))
        return dict(zip(mine.column("tenor_label").to_pylist(), mine.column("mid").to_pylist(), strict=True))


def fixed_price_curves(asof: date, n: int = N_CURVES) -> CurveSlice:
    """The first ``n`` curves (by key) of the slice's 'Fixed Prices - Mid' sheet, with every tenor (monthly
    quotes and the strips derived from them)."""
    rows = read_slice("vendor:EUGP", asof)
    fixed = rows.filter(pc.equal(rows.column("sheet_name"), "Fixed Prices - Mid"))
    keys = tuple(sorted(set(fixed.column("curve_key").to_pylist()))[:n])
    mine = rows.filter(pc.is_in(rows.column("curve_key"), pa.array(keys, pa.string())))
    return CurveSlice(asof=asof, curve_keys=keys, rows=mine.filter(pc.is_valid(mine.column("mid"))))


POLICY = {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}
