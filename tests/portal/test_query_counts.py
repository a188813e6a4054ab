"""Each portal page's database queries are pinned: a page must not grow a query per row."""

import pytest

from tests.support.curves import D1, D3, a_curve

# Every signed-in page: the host's domain and tenant, the session, its user, the membership, the tenant's
# search_path and its entitlements (6; the sign-in left the connection on the public path, so no SET to
# public first: decision 0057). A lakehouse read adds one (its Iceberg metadata row).
QUERIES = {
    # + dataset summaries, recent runs, tokens; the publication SLAs: EOD vintages (2), watermarks, the
    # real-time feeds' fetched intervals (decision 0042), late days
    "home-analyst": 14,
    "home-admin": 14,
    "catalog": 9,  # + facets, count, page
    "catalog-page-2": 9,
    "catalog-results": 8,  # the htmx fragment: no facets
    "curve": 9,  # + the curve, its as-of dates, one read of the vintage and the previous one (ghost)
    "compare": 9,  # the compared vintage read instead of the ghost
    "lineage": 10,  # + the curve, the point read, its ingest run, its quarantine release if any
    "history": 8,  # + the curve, the history read
    "movers": 9,  # + published as-of dates, the movers read, the curves named
}


def _request(page: str) -> tuple[str, str, dict[str, str]]:
    curve = a_curve("EUGP", D3)
    return {
        "home-analyst": ("analyst", "/", {}),
        "home-admin": ("admin", "/", {}),
        "catalog": ("analyst", "/curves/", {}),
        "catalog-page-2": ("analyst", "/curves/?page=2&dataset=vendor:EUGP", {}),
        "catalog-results": (
            "analyst",
            "/curves/?q=spark",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"},
        ),
        "curve": ("analyst", f"/curves/{curve}/?asof={D3}", {}),
        "compare": ("analyst", f"/curves/{curve}/?asof={D3}&compare={D1}&tenor=2026-01", {}),
        "lineage": ("analyst", f"/curves/{curve}/lineage/?asof={D3}&tenor=2026-01", {}),
        "history": ("analyst", f"/curves/{curve}/history/?tenor=2026-01", {}),
        "movers": ("analyst", f"/curves/movers/?asof_a={D1}&asof_b={D3}", {}),
    }[page]


@pytest.mark.parametrize("page", sorted(QUERIES))
def test_a_page_pins_its_query_count(portal, settings, django_assert_num_queries, page):
    settings.AURUM_READ_CACHE = False  # every read is computed: the count is the page's, not the cache's
    role, path, headers = _request(page)
    client = portal("acme", role)

    with django_assert_num_queries(QUERIES[page]):
        response = client.get(path, **headers)

    assert response.status_code == 200
