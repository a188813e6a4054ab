from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def sso_cache_cleared(settings: Any) -> Iterator[None]:
    """Each test starts with no cached discovery documents or keys (every test has the same tenants)."""
    settings.AURUM_SSO_JWKS_REFETCH_SECONDS = 0
    cache.delete_pattern("*sso:*")  # type: ignore[attr-defined]
    yield
    cache.delete_pattern("*sso:*")  # type: ignore[attr-defined]
