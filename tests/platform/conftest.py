"""Fixtures of the suites over every route: a private lakehouse with two EUGP days, and acme's own objects
(one of each kind a route names), created once per module in a transaction rolled back after it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from tests.support.acme import AcmeObjects, acme_objects_create
from tests.support.lake import EUGP_DAYS, Lake, eod, private_lake
from tests.support.world import World


@pytest.fixture(scope="module")
def lake(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lake]:
    files = [eod("EUGP", day) for day in EUGP_DAYS[:2]]
    with django_db_blocker.unblock(), private_lake(tmp_path_factory.mktemp("lake"), files) as private:
        yield private


@pytest.fixture(scope="module")
def acme_objects(lake: Lake, session_world: World, django_db_blocker: Any) -> Iterator[AcmeObjects]:
    """Acme's objects for the module's tests, which run inside this transaction (each in a savepoint of it,
    rolled back), as a Django TestCase's class-level data does; rolled back after the module."""
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield acme_objects_create(APIClient(), session_world, lake)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
