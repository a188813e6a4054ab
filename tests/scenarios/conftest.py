"""Real curves for scenario tests: a real EUGP workbook ingested as its own (dataset, as-of) slice.

The as-of days are in June 2025, before the real files' range (July-September), so no other test reads them
as a dataset's latest. The ingest's database rows are rolled back (only the Iceberg slice is kept): the
curve catalog and ingest runs other tests count stay untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from tests.ingestion.fixture_paths import EOD_DIR

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
EUGP_0911 = EOD_DIR / "EOD_EUGP_20250911_1430.xlsx"
BASE_DAY = date(2025, 6, 2)
N_CURVES = 8


class _RollbackError(Exception):
    pass


def ingest_slice(path: Path, asof: date) -> None:
    """Publish ``path`` as the (vendor:EUGP, asof) Iceberg slice, leaving no database rows behind."""
    from apps.ingestion.services import ingest_run_create, ingest_run_execute

    try:
        with transaction.atomic():
            created = ingest_run_create(
                data=path.read_bytes(), file_name=path.name, source="command", as_of=asof
            )
            run = ingest_run_execute(run_id=created.run.pk)
            assert run.status in ("succeeded", "succeeded_with_quarantine"), run.error_message
            raise _RollbackError
    except _RollbackError:
        pass


def read_slice(asof: date) -> pa.Table:
    from aurum.lakehouse.tables import curve_observation_table, slice_filter

    return curve_observation_table().scan(row_filter=slice_filter("vendor:EUGP", asof)).to_arrow()


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
    rows = read_slice(asof)
    fixed = rows.filter(pc.equal(rows.column("sheet_name"), "Fixed Prices - Mid"))
    keys = tuple(sorted(set(fixed.column("curve_key").to_pylist()))[:n])
    mine = rows.filter(pc.is_in(rows.column("curve_key"), pa.array(keys, pa.string())))
    return CurveSlice(asof=asof, curve_keys=keys, rows=mine.filter(pc.is_valid(mine.column("mid"))))


@pytest.fixture(scope="session")
def eugp_curves(django_db_setup: None, django_db_blocker: Any) -> CurveSlice:
    with django_db_blocker.unblock():
        ingest_slice(EUGP_0912, BASE_DAY)
    return fixed_price_curves(BASE_DAY)


@pytest.fixture
def acme(world: Any) -> Any:
    from tenants.models import Tenant

    return Tenant.objects.select_related("plan").get(schema_name="acme")


@contextmanager
def in_schema(schema: str) -> Iterator[None]:
    with schema_context(schema):
        yield


@pytest.fixture
def in_acme(acme: Any) -> Iterator[Any]:
    with schema_context("acme"):
        yield acme


POLICY = {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}
