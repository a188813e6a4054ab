from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.lake import Lake, private_lake


@pytest.fixture
def feed_lake(db: None, tmp_path: Path) -> Iterator[Lake]:
    """An empty private lakehouse (its own catalog and warehouse) for one test."""
    with private_lake(tmp_path, []) as lake:
        yield lake
