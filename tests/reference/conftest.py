"""Reference-data tests read the real catalog files in ../shared/fixtures/aurum-original."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.reference.selectors import units_cache_bump
from apps.reference.services import reference_load
from tests.support.paths import ORIGINAL

CATALOG_FILES = (
    "units_map.csv",
    "calendars.json",
    "iso_catalog.csv",
    "iso_catalog.json",
    "market_catalog.csv",
    "iso_nodes.csv",
    "block_catalog.csv",
    "product_catalog.csv",
)


@pytest.fixture(autouse=True)
def _units_cache_fresh() -> Iterator[None]:
    # Each test's rows are rolled back; a units lookup cached during one test must not reach the next.
    units_cache_bump()
    yield
    units_cache_bump()


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A writable copy of the catalog files, for tests that change one."""
    target = tmp_path / "aurum-original"
    target.mkdir()
    for name in CATALOG_FILES:
        shutil.copy(ORIGINAL / name, target / name)
    return target


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    """The real catalogs, loaded (the test session may have loaded them already; loading again is a no-op)."""
    return reference_load(source_dir=ORIGINAL)
