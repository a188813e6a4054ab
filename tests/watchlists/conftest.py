from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.lake import EUGP_DAYS, RP_DAYS, Lake, eod, private_lake


@pytest.fixture(scope="package")
def lake(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lake]:
    """The real EUGP workbooks of 1, 2 and 3 July 2025 (acme and globex license EUGP) and RP of 1 and 2 July
    (acme only)."""
    files = [eod("EUGP", d) for d in EUGP_DAYS] + [eod("RP", d) for d in RP_DAYS]
    with django_db_blocker.unblock(), private_lake(tmp_path_factory.mktemp("lake"), files) as private:
        yield private
