"""Reference-data test helpers: edit a copied catalog file, empty the reference tables."""

from __future__ import annotations

from pathlib import Path

from apps.reference.models import Block, Calendar, Iso, IsoDataSource, IsoNode, Market, Product, UnitMapping
from tests.support.paths import ORIGINAL

__all__ = ["ORIGINAL", "file_edit", "reference_clear"]


def reference_clear() -> None:
    """Delete every reference row (inside the test's transaction), for tests that load into empty tables."""
    for model in (IsoNode, Market, IsoDataSource, Iso, Calendar, UnitMapping, Block, Product):
        model._default_manager.all().delete()


def file_edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of ``old`` in a copied catalog file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")
