"""Real curves for PPA tests: real EUGP and RP workbooks published as (dataset, as-of) slices of their own.

The as-of days (May 2025) precede the real files' range (July-September) and the scenario tests' days, so no
other test reads them. The ingest's database rows are rolled back (only the Iceberg slices stay); each test
that needs the curve catalog records the slice's curves in its own transaction (``catalogued``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django_tenants.utils import schema_context

from tests.support.paths import EOD_DIR
from tests.support.ppa import PPA_DAY
from tests.support.slices import ingest_slice, read_slice

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
RP_0912 = EOD_DIR / "EOD_RP_20250912_1430.xlsx"
GERMAN_POWER = {"sheet_name": "Fixed Prices - Mid", "location": "German", "block": "BASE"}


@dataclass(frozen=True)
class PpaCurve:
    """One curve of a slice, with its MONTHLY mids straight from the published rows."""

    dataset: str
    asof: date
    curve_key: str
    slice_rows: pa.Table

    def monthly_mids(self) -> list[tuple[date, float]]:
        rows = self.slice_rows
        mine = rows.filter(
            pc.and_(
                pc.equal(rows.column("curve_key"), self.curve_key),
                pc.equal(rows.column("tenor_type"), "MONTHLY"),
            )
        )
        pairs = zip(mine.column("contract_month").to_pylist(), mine.column("mid").to_pylist(), strict=True)
        return sorted((month, mid) for month, mid in pairs if mid is not None)


def _curve(dataset: str, asof: date, **identity: str) -> PpaCurve:
    rows = read_slice(dataset, asof)
    match = rows
    for name, value in identity.items():
        match = match.filter(pc.equal(match.column(name), value))
    keys = sorted(
        set(match.filter(pc.equal(match.column("tenor_type"), "MONTHLY")).column("curve_key").to_pylist())
    )
    assert len(keys) == 1, keys
    return PpaCurve(dataset=dataset, asof=asof, curve_key=keys[0], slice_rows=rows)


@pytest.fixture(scope="session")
def german_power(django_db_setup: None, django_db_blocker: Any) -> PpaCurve:
    """EUGP's German BASE power curve (121 monthly tenors) as of PPA_DAY."""
    with django_db_blocker.unblock():
        ingest_slice(EUGP_0912, PPA_DAY)
    return _curve("vendor:EUGP", PPA_DAY, **GERMAN_POWER)


@pytest.fixture(scope="session")
def rp_slice(django_db_setup: None, django_db_blocker: Any) -> pa.Table:
    with django_db_blocker.unblock():
        ingest_slice(RP_0912, PPA_DAY)
    return read_slice("vendor:RP", PPA_DAY)


@pytest.fixture
def catalogued(db: None) -> Callable[[str, date], None]:
    """Record a slice's curves in the catalog, in this test's transaction (as the ingest would)."""
    from apps.curves.services import curve_catalog_upsert

    def _catalog(dataset: str, asof: date) -> None:
        curve_catalog_upsert(
            published=read_slice(dataset, asof), dataset=dataset, vendor=dataset.split(":")[1]
        )

    return _catalog


@pytest.fixture
def acme_schema(world: Any) -> Iterator[Any]:
    from tenants.models import Tenant

    with schema_context("acme"):
        yield Tenant.objects.select_related("plan").get(schema_name="acme")
