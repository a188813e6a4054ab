"""Every v1 and v2 list of the curve, PPA and reference APIs refuses paging input it cannot honour with a 400
problem naming it: an offset beyond the bound (or any offset on v2, which pages by cursor only), a limit
that is not a plain ASCII whole number in range, a cursor longer than any the API issues."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import schema_context

from aurum.api.cursors import MSG_BAD_OFFSET, MSG_INVALID, MSG_TOO_LONG
from aurum.api.paging import MSG_V2_OFFSET

DIFF = {"asof_a": "2025-07-01", "asof_b": "2025-07-02", "iso": "EU"}
V1_LISTS = {
    "/api/v1/curves": {},
    "/api/v1/curves/diff": DIFF,
    "/api/v1/curves/strips": {"type": "CALENDAR"},
    "/api/v1/ppa/contracts": {},
    "/api/v1/ppa/contracts/{contract}/valuations": {},
}
V2_LISTS = {
    "/api/v2/curves": {},
    "/api/v2/curves/diff": DIFF,
    "/api/v2/curves/strips": {"type": "CALENDAR"},
    "/api/v2/ppa/contracts": {},
    "/api/v2/ppa/contracts/{contract}/valuations": {},
    "/api/v2/metadata/locations": {},
    "/api/v2/metadata/units/mapping": {},
    "/api/v2/metadata/calendars": {},
    "/api/v2/metadata/calendars/pjm/blocks": {},
}
BAD_LIMITS = {
    "exponent": "1e3",
    "negative": "-1",
    "twenty digits": "99999999999999999999",
    "unicode digit": "٣",
}
HUGE_OFFSET = "99999999999999999999999"
LONG_CURSOR = "A" * 2000


@pytest.fixture
def get(api: Any, world: Any) -> Any:
    from apps.ppa.models import PpaContract

    with schema_context("acme"):
        contract = PpaContract.objects.create(terms={"ppa_price": 40.0, "volume_mwh": 10.0})

    def _get(path: str, **params: str) -> Any:
        url = path.format(contract=contract.pk)
        return api.get(url, params, **world.acme.auth("viewer"))

    return _get


def _problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == 400 and body["request_id"]
    return body


@pytest.mark.parametrize("path", [*V1_LISTS, *V2_LISTS])
@pytest.mark.parametrize("limit", BAD_LIMITS.values(), ids=BAD_LIMITS.keys())
def test_a_limit_that_is_not_a_plain_whole_number_in_range_is_400(get, path, limit):
    params = {**V1_LISTS, **V2_LISTS}[path]

    problem = _problem(get(path, **params, limit=limit))

    assert problem["type"] == "https://aurum.dev/problems/invalid"
    assert [error["field"] for error in problem["errors"]] == ["limit"]
    assert problem["errors"][0]["message"].startswith("limit must be an integer from 1 to ")


@pytest.mark.parametrize("path", V1_LISTS)
def test_a_v1_offset_beyond_the_bound_and_an_overlong_cursor_are_400(get, path):
    offset = _problem(get(path, **V1_LISTS[path], offset=HUGE_OFFSET))
    cursor = _problem(get(path, **V1_LISTS[path], cursor=LONG_CURSOR))

    assert (offset["type"], offset["detail"]) == (
        "https://aurum.dev/problems/invalid-pagination",
        MSG_BAD_OFFSET,
    )
    assert (cursor["type"], cursor["detail"]) == ("https://aurum.dev/problems/invalid-cursor", MSG_TOO_LONG)


@pytest.mark.parametrize("path", V2_LISTS)
def test_a_v2_offset_and_an_overlong_cursor_are_400(get, path):
    huge = _problem(get(path, **V2_LISTS[path], offset=HUGE_OFFSET))
    small = _problem(get(path, **V2_LISTS[path], offset="10"))
    cursor = _problem(get(path, **V2_LISTS[path], cursor=LONG_CURSOR))

    assert (huge["type"], huge["detail"]) == ("https://aurum.dev/problems/invalid-pagination", MSG_V2_OFFSET)
    assert small["detail"] == MSG_V2_OFFSET
    assert (cursor["type"], cursor["detail"]) == ("https://aurum.dev/problems/invalid-cursor", MSG_INVALID)
