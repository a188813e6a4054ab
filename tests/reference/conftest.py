"""Reference-data tests read the real catalog files in ../shared/fixtures/aurum-original."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.reference.models import (
    Block,
    Calendar,
    Iso,
    IsoDataSource,
    IsoNode,
    Market,
    Product,
    UnitMapping,
)
from apps.reference.selectors import units_cache_bump
from apps.reference.services import reference_load
from tests.conftest import FIXTURES

ORIGINAL = FIXTURES / "aurum-original"
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


def reference_clear() -> None:
    """Delete every reference row (inside the test's transaction), for tests that load into empty tables."""
    for model in (IsoNode, Market, IsoDataSource, Iso, Calendar, UnitMapping, Block, Product):
        model._default_manager.all().delete()


def file_edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of ``old`` in a copied catalog file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")
