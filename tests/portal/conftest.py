from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.lake import EUGP_DAYS, RP_DAYS, Lake, eod, private_lake


@pytest.fixture(scope="package")
def lake(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lake]:
    """Three EUGP days (acme and globex license EUGP) and two RP days (acme only), for every portal test."""
    files = [eod("EUGP", d) for d in EUGP_DAYS] + [eod("RP", d) for d in RP_DAYS]
    with django_db_blocker.unblock(), private_lake(tmp_path_factory.mktemp("lake"), files) as private:
        yield private


@pytest.fixture
def portal(lake: Lake, world: Any) -> Callable[..., Any]:
    """``portal(tenant, role)``: a test client signed in as that member, on that tenant's host."""
    from django.test import Client

    from apps.accounts.models import User

    def signed_in(tenant: str = "acme", role: str = "analyst") -> Client:
        tenant_world = getattr(world, tenant)
        client = Client(HTTP_HOST=tenant_world.host)
        client.force_login(User.objects.get(email=tenant_world.members[role].email))
        return client

    return signed_in
