from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from tests.support.feeds import feeds_load
from tests.support.lake import Lake, private_lake


@pytest.fixture
def feed_lake(db: None, tmp_path: Path) -> Iterator[Lake]:
    """An empty private lakehouse (its own catalog and warehouse) for one test."""
    with private_lake(tmp_path, []) as lake:
        yield lake


@pytest.fixture(scope="module")
def loaded(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Any]]:
    """A private lakehouse with the catalog and every recorded fetch, for a module's tests (which run in a
    transaction rolled back after the module)."""
    with django_db_blocker.unblock(), private_lake(tmp_path_factory.mktemp("feeds"), []):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield feeds_load()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
