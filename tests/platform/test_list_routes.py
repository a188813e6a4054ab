"""Every list route, v1 and v2, as one suite (issue 9, "One API toolkit").

Each list answers its envelope (``meta`` with ``request_id``; v2 ``links`` self/next/prev and a ``Link``
header while a next page exists), pages round trip (follow next to the end and prev back to the start: the
pages are disjoint and together are the whole list, in order), has an ETag that answers ``If-None-Match`` with
a 304 and no body, a private Cache-Control, ``X-Request-Id`` and the rate-limit headers; a page costs an
exact number of queries that does not grow with the page size (limit=1 and limit=20 alike); paging input it
cannot honour is a 400 problem, and so is a cursor issued by any other list.

Lists the original v1 contract does not page (reference catalogs, an hour expansion, movers, a curve's
history, run comparisons, dimensions) answer whole: the same checks without paging; their query count does
not grow with a larger answer.

The rows each test pages through are created in the test (services or the API) on top of acme's objects
(``tests/support/acme.py``). A GET route that answers a list without a case here fails
``test_every_list_route_has_a_case``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.acme import ASOF_A, ASOF_B, BLOCK, CALENDAR, PPA_TERMS, AcmeObjects, webhook_endpoint
from tests.support.lake import EUGP_DAYS, eod
from tests.support.routes import OWN_GET_PATHS, canonical_pattern
from tests.support.routes_feeds import FEED_LIST_CASES, fixed
from tests.support.world import World

MAX_PAGES = 30  # every case's list is a few pages long; more means a cursor that does not move on
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
Grow = Callable[[Any, World, AcmeObjects], None]


@dataclass(frozen=True)
class ListCase:
    path: Callable[[AcmeObjects], str]  # the list, with filters that keep it to a few pages at `limit`
    kind: str  # "v1", "v2" (paged) or "whole" (not paged)
    # A page's (or the whole answer's) exact query count: 1 to authenticate (the token with its member,
    # tenant, plan and the tenant's entitlements; the connection's session already has the tenant's
    # search_path from the request before, decision 0057), then the list's own reads.
    queries: int
    grow: Grow | None = None  # adds rows in the test
    limit: int = 2  # the page size of the round trip
    # whole lists: query strings for a small and a large answer; their query counts are the same
    sizes: tuple[str, str] = ("", "")


# --- rows created in the test ----------------------------------------------------------------------------


def _tokens(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.accounts.models import Membership
    from apps.accounts.services import api_token_create

    member = Membership.objects.get(pk=world.acme.members["analyst"].membership_id)
    for name in ("reports", "notebook"):
        api_token_create(membership=member, name=name)


def _members(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.accounts.services import membership_create, user_create
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=world.acme.pk)
    for name in ("quant", "risk"):
        user = user_create(email=f"{name}@acme.example", password=f"{name}-acme-password")
        membership_create(user=user, tenant=tenant, role="viewer")


def _invitations(api: Any, world: World, o: AcmeObjects) -> None:
    for name in ("quant", "risk", "ops"):
        body = {"email": f"{name}@newcomers.example", "role": "viewer"}
        created = api.post("/api/v2/invitations", body, format="json", **world.acme.auth("admin"))
        assert created.status_code == 201, created.content


def _audit_entries(api: Any, world: World, o: AcmeObjects) -> None:
    from django_tenants.utils import schema_context

    from apps.audit.services import audit_append

    with schema_context(world.acme.schema):
        for n in range(5):
            audit_append(action="test.listed", resource_type="test", resource_id=str(n))


def _mappings(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.feeds.models import SeriesCurveMapping

    for n in range(5):
        SeriesCurveMapping.objects.create(
            external_provider="LISTED", external_series_id=f"S{n}", curve_key=f"K{n}", created_by="t@example"
        )


def _mapping_candidates(api: Any, world: World, o: AcmeObjects) -> None:
    """A FRED series and five curves sharing a word with it (the suggestions list)."""
    import datetime

    from apps.curves.models import Curve
    from apps.feeds.models import Series

    Series.objects.create(provider="FRED", series_id="LISTED", title="Zanzibar quoll spot")
    day = datetime.date(2025, 1, 2)
    for n in range(5):
        Curve.objects.create(
            curve_key=f"LISTED_{n}",
            dataset="vendor:EUGP",
            vendor="EUGP",
            asset_class="x",
            location=f"Zanzibar {'quoll ' * (n % 2)}{n}",
            first_asof=day,
            last_asof=day,
        )


def _ingest_run(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.ingestion.services import ingest_run_create

    path = eod("EUGP", EUGP_DAYS[2])
    created = ingest_run_create(data=path.read_bytes(), file_name=path.name, source="command")
    assert created.created


def _post(api: Any, world: World, path: str, body: dict[str, Any]) -> None:
    response = api.post(path, body, format="json", **world.acme.auth("admin"))
    assert response.status_code == 201, response.content


def _contracts(api: Any, world: World, o: AcmeObjects) -> None:
    for name in ("Nordwind", "Sonnenhof"):
        _post(api, world, "/api/v2/ppa/contracts", {"terms": {**PPA_TERMS, "counterparty": name}})


def _valuations(api: Any, world: World, o: AcmeObjects) -> None:
    for rate in (0.05, 0.06):
        body = {"asof": ASOF_B.isoformat(), "options": {"discount_rate": rate}}
        _post(api, world, f"/api/v2/ppa/contracts/{o.contract_id}/valuations", body)


def _scenarios(api: Any, world: World, o: AcmeObjects) -> None:
    for name in ("Acme low", "Acme high"):
        body = {"name": name, "curve_keys": [o.curve_key], "base_asof": ASOF_A.isoformat()}
        _post(api, world, "/api/v2/scenarios", body)


def _follows(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.curves.models import Curve

    keys = Curve.objects.filter(dataset="vendor:EUGP").exclude(curve_key=o.curve_key).order_by("curve_key")
    for key in keys.values_list("curve_key", flat=True)[6:8]:  # not those _notices follows
        _post(api, world, "/api/v2/watchlist", {"curve_key": key, "threshold_pct": 1})


def _exports(api: Any, world: World, o: AcmeObjects) -> None:
    from apps.exports.models import TenantExport
    from tenants.models import Tenant

    acme = Tenant.objects.get(pk=world.acme.pk)
    for _ in range(4):
        TenantExport.objects.create(tenant=acme, schema_name="acme", status="failed", error="listed")


def _webhooks(api: Any, world: World, o: AcmeObjects) -> None:
    for port in (10, 11, 12, 13):
        webhook_endpoint(api, world, url=f"http://127.0.0.1:{port}/hook")


def _webhook_attempts(api: Any, world: World, o: AcmeObjects) -> None:
    """Six pings to acme's endpoint (sequences 1-6), each with one attempt (nobody listens: a retry)."""
    from django_tenants.utils import schema_context

    from apps.webhooks.services.delivery import webhook_deliver_due

    for _ in range(6):
        ping = api.post(f"/api/v2/webhooks/{o.webhook_id}/ping", **world.acme.auth("admin"))
        assert ping.status_code == 202, ping.content
        with schema_context("acme"):
            assert webhook_deliver_due().retrying == 1


def _notices(api: Any, world: World, o: AcmeObjects) -> None:
    from django_tenants.utils import schema_context

    from apps.curves.models import Curve
    from apps.watchlists.services import watchlist_vintage_published
    from tenants.models import Tenant

    keys = Curve.objects.filter(dataset="vendor:EUGP").exclude(curve_key=o.curve_key).order_by("curve_key")
    for key in keys.values_list("curve_key", flat=True)[:6]:
        _post(api, world, "/api/v2/watchlist", {"curve_key": key, "threshold_abs": 0.0001})
    tenant = Tenant.objects.select_related("plan").get(pk=world.acme.pk)
    with schema_context(tenant.schema_name):
        assert len(watchlist_vintage_published(tenant=tenant, dataset="vendor:EUGP", asof=ASOF_B)) >= 2


def _run(api: Any, world: World, o: AcmeObjects) -> None:
    _post(api, world, f"/api/v2/scenarios/{o.scenario_id}/runs", {"seed": 3})


# --- the cases -------------------------------------------------------------------------------------------

_DIFF = f"asof_a={ASOF_A}&asof_b={ASOF_B}"
_CALENDARS = "curve_key={key}&tenor_type=CALENDAR"


def _curves(path: str, extra: str = "") -> Callable[[AcmeObjects], str]:
    return lambda o: f"{path}?{extra}{_CALENDARS.format(key=o.curve_key)}"


# Each count is 1 to authenticate (ListCase.queries) plus the reads named beside it.
LIST_CASES: dict[str, ListCase] = {
    # the page (owners joined)
    "api/v2/tokens": ListCase(lambda o: "/api/v2/tokens", "v2", 2, _tokens),
    # the page (users joined)
    "api/v2/members": ListCase(lambda o: "/api/v2/members", "v2", 2, _members),
    # the page (inviters joined)
    "api/v2/invitations": ListCase(lambda o: "/api/v2/invitations", "v2", 2, _invitations),
    # the page
    "api/v2/ingest/runs": ListCase(lambda o: "/api/v2/ingest/runs", "v2", 2, _ingest_run),
    # Every contract acme licenses (14), statuses read at once (the real-time feeds' fetched intervals one
    # more query, decision 0042): the count does not grow with the page.
    "api/v2/datasets": ListCase(lambda o: "/api/v2/datasets", "v2", 6),
    # curve reads: the Iceberg catalog's pointer to the table read
    "api/v1/curves": ListCase(_curves("/api/v1/curves"), "v1", 2),
    "api/v1/curves/diff": ListCase(_curves("/api/v1/curves/diff", f"{_DIFF}&"), "v1", 2),
    "api/v1/curves/strips": ListCase(_curves("/api/v1/curves/strips", "type=CALENDAR&"), "v1", 2),
    "api/v2/curves": ListCase(_curves("/api/v2/curves"), "v2", 2),
    "api/v2/curves/diff": ListCase(_curves("/api/v2/curves/diff", f"{_DIFF}&"), "v2", 2),
    "api/v2/curves/strips": ListCase(_curves("/api/v2/curves/strips", "type=CALENDAR&"), "v2", 2),
    "api/v2/curves/movers": ListCase(
        lambda o: f"/api/v2/curves/movers?{_DIFF}", "whole", 2, sizes=("top=1", "top=50")
    ),
    "api/v1/metadata/dimensions": ListCase(
        lambda o: "/api/v1/metadata/dimensions", "whole", 2, sizes=("per_dim_limit=1", "per_dim_limit=500")
    ),
    "api/v2/metadata/dimensions": ListCase(
        lambda o: "/api/v2/metadata/dimensions", "whole", 2, sizes=("per_dim_limit=1", "per_dim_limit=500")
    ),
    # the curve, the table pointer
    "api/v2/curves/<str:curve_key>/history": ListCase(
        lambda o: f"/api/v2/curves/{o.curve_key}/history?tenor_label={o.tenor_label}", "whole", 3
    ),
    # reference catalogs: the page (or the whole catalog)
    "api/v2/metadata/locations": ListCase(
        lambda o: "/api/v2/metadata/locations?iso=PJM&prefix=P", "v2", 2, limit=1
    ),
    "api/v2/metadata/units/mapping": ListCase(lambda o: "/api/v2/metadata/units/mapping?prefix=USD", "v2", 2),
    "api/v2/metadata/calendars": ListCase(lambda o: "/api/v2/metadata/calendars", "v2", 2),
    "api/v1/metadata/locations": ListCase(
        lambda o: "/api/v1/metadata/locations?iso=PJM", "whole", 2, sizes=("prefix=PECO", "")
    ),
    "api/v1/metadata/units/mapping": ListCase(
        lambda o: "/api/v1/metadata/units/mapping", "whole", 2, sizes=("prefix=EUR/MWh", "")
    ),
    "api/v1/metadata/calendars": ListCase(lambda o: "/api/v1/metadata/calendars", "whole", 2),
    # the calendar, its blocks
    "api/v2/metadata/calendars/<str:name>/blocks": ListCase(
        lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/blocks", "v2", 3, limit=1
    ),
    "api/v1/metadata/calendars/<str:name>/blocks": ListCase(
        lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/blocks", "whole", 3
    ),
    # the calendar, the block's rules, the holidays
    "api/v2/metadata/calendars/<str:name>/hours": ListCase(
        lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/hours?block={BLOCK}&date={ASOF_A}", "whole", 4
    ),
    "api/v2/metadata/calendars/<str:name>/expand": ListCase(
        lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/expand?block={BLOCK}&start={ASOF_A}&end={ASOF_B}",
        "whole",
        4,
        sizes=(f"end={ASOF_A}", f"end={ASOF_A.replace(month=12)}"),
    ),
    "api/v1/metadata/calendars/<str:name>/hours": ListCase(
        lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/hours?block={BLOCK}&date={ASOF_A}", "whole", 4
    ),
    "api/v1/metadata/calendars/<str:name>/expand": ListCase(
        lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/expand?block={BLOCK}&start={ASOF_A}&end={ASOF_B}",
        "whole",
        4,
        sizes=(f"end={ASOF_A}", f"end={ASOF_A.replace(month=12)}"),
    ),
    # the page (creators joined)
    "api/v1/ppa/contracts": ListCase(lambda o: "/api/v1/ppa/contracts", "v1", 2, _contracts),
    "api/v2/ppa/contracts": ListCase(lambda o: "/api/v2/ppa/contracts", "v2", 2, _contracts),
    # the contract, its valuation ids, the valuation table's pointer (a row per metric and period: one NPV
    # row per valuation)
    "api/v1/ppa/contracts/<str:contract_id>/valuations": ListCase(
        lambda o: f"/api/v1/ppa/contracts/{o.contract_id}/valuations?metric=NPV", "v1", 4, _valuations
    ),
    # the contract, the page
    "api/v2/ppa/contracts/<str:contract_id>/valuations": ListCase(
        lambda o: f"/api/v2/ppa/contracts/{o.contract_id}/valuations", "v2", 3, _valuations
    ),
    # the page, the scenarios' assumptions
    "api/v1/scenarios": ListCase(lambda o: "/api/v1/scenarios", "v1", 3, _scenarios),
    "api/v2/scenarios": ListCase(lambda o: "/api/v2/scenarios", "v2", 3, _scenarios),
    # the scenario, its assumptions, the page
    "api/v1/scenarios/<str:scenario_id>/runs": ListCase(
        lambda o: f"/api/v1/scenarios/{o.scenario_id}/runs", "v1", 4, _run
    ),
    "api/v2/scenarios/<str:scenario_id>/runs": ListCase(
        lambda o: f"/api/v2/scenarios/{o.scenario_id}/runs", "v2", 4, _run
    ),
    # the page (one member's follows; their notices)
    "api/v2/watchlist": ListCase(lambda o: "/api/v2/watchlist", "v2", 2, _follows),
    "api/v2/notices": ListCase(lambda o: "/api/v2/notices", "v2", 2, _notices),
    # the page (webhook endpoints); the endpoint, then the page (its attempts with their messages; its
    # messages after a sequence)
    "api/v2/webhooks": ListCase(lambda o: "/api/v2/webhooks", "v2", 2, _webhooks),
    "api/v2/exports": ListCase(lambda o: "/api/v2/exports", "v2", 2, _exports),
    "api/v2/webhooks/<str:endpoint_id>/deliveries": ListCase(
        lambda o: f"/api/v2/webhooks/{o.webhook_id}/deliveries", "v2", 3, _webhook_attempts
    ),
    "api/v2/webhooks/<str:endpoint_id>/events": ListCase(
        lambda o: f"/api/v2/webhooks/{o.webhook_id}/events?after_sequence=1", "v2", 3, _webhook_attempts
    ),
    # the tenant's audit ledger (the filter keeps to the rows grown here)
    "api/v2/audit": ListCase(lambda o: "/api/v2/audit?action=test.listed", "v2", 2, _audit_entries),
    # series-curve mappings (shared): the page; suggestions: series, mappings, curves
    "api/v1/admin/mappings": ListCase(
        lambda o: "/api/v1/admin/mappings?external_provider=LISTED", "v1", 2, _mappings
    ),
    "api/v2/series-curve-mappings": ListCase(
        lambda o: "/api/v2/series-curve-mappings?external_provider=LISTED", "v2", 2, _mappings
    ),
    "api/v2/series-mapping-suggestions": ListCase(
        lambda o: "/api/v2/series-mapping-suggestions?external_provider=FRED&external_series_id=LISTED",
        "v2",
        4,
        _mapping_candidates,
    ),
    "api/v1/admin/mappings/search": ListCase(
        lambda o: "/api/v1/admin/mappings/search?external_provider=FRED&external_series_id=LISTED",
        "whole",
        4,
        _mapping_candidates,
        sizes=("limit=1", ""),
    ),
    # the scenario, its assumptions, its latest succeeded run, the output table's pointer
    "api/v1/scenarios/<str:scenario_id>/outputs": ListCase(
        lambda o: f"/api/v1/scenarios/{o.scenario_id}/outputs?metric=mid&tenor_type=CALENDAR", "v1", 5
    ),
    # the run, the output table's pointer
    "api/v2/scenario-runs/<str:run_id>/outputs": ListCase(
        lambda o: f"/api/v2/scenario-runs/{o.run_id}/outputs?metric=mid&tenor_type=CALENDAR", "v2", 3
    ),
    # the two runs, the output table's pointer once per run
    "api/v2/scenario-runs/<str:run_id>/compare": ListCase(
        lambda o: f"/api/v2/scenario-runs/{o.run_id}/compare?other={o.other_run_id}", "whole", 5
    ),
}
LIST_CASES |= {
    pattern: ListCase(fixed(path), kind, queries, limit=limit, sizes=sizes)
    for pattern, (path, kind, queries, limit, sizes) in FEED_LIST_CASES.items()
}
PAGED = sorted(pattern for pattern, case in LIST_CASES.items() if case.kind != "whole")


# --- helpers ---------------------------------------------------------------------------------------------


def _with(path: str, **params: Any) -> str:
    """``path`` with ``params`` set (replacing any of the same name)."""
    parts = urlsplit(path)
    query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update({name: str(value) for name, value in params.items()})
    return f"{parts.path}?{urlencode(query)}"


def _extended(path: str, extra: str) -> str:
    """``path`` with the parameters of the query string ``extra`` set."""
    return _with(path, **{name: values[-1] for name, values in parse_qs(extra).items()})


def _size(data: list[Any] | dict[str, list[Any]]) -> int:
    """Rows in a list, or values in a dimensions answer (a list per dimension)."""
    return len(data) if isinstance(data, list) else sum(len(values) for values in data.values())


def _key(row: Any) -> str:
    return json.dumps(row, sort_keys=True)


def _page_after(
    api: Any, auth: dict[str, str], case: ListCase, path: str, body: dict[str, Any], rel: str
) -> Any:
    """The page ``rel`` ("next" / "prev") of ``body``, or None: v2 follows ``links``, v1 sends its cursor."""
    if case.kind == "v2":
        url = body["links"][rel]
        return api.get(url, **auth) if url else None
    cursor = body["meta"].get(f"{rel}_cursor")
    return api.get(_with(path, cursor=cursor, limit=case.limit), **auth) if cursor else None


def _assert_headers(response: Any, body: dict[str, Any]) -> None:
    assert response["X-Request-Id"] == body["meta"]["request_id"]
    assert all(response.has_header(name) for name in RATE_LIMIT_HEADERS)
    cache = response["Cache-Control"]
    assert "private" in cache and "public" not in cache
    assert response["ETag"].startswith('"')


def _assert_envelope(case: ListCase, response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == 200
    assert len(body["meta"]["request_id"]) == 32
    assert isinstance(body["data"], list) or (case.kind == "whole" and isinstance(body["data"], dict))
    if case.kind == "v2":
        links = body["links"]
        assert set(links) == {"self", "next", "prev"}
        assert links["self"] == response.wsgi_request.build_absolute_uri()
        link = response.get("Link", "")
        assert f'<{links["self"]}>; rel="self"' in link
        assert (f'<{links["next"]}>; rel="next"' in link) if links["next"] else ('rel="next"' not in link)
        assert (f'<{links["prev"]}>; rel="prev"' in link) if links["prev"] else ('rel="prev"' not in link)
        assert body["meta"]["has_more"] is (links["next"] is not None)
    if case.kind == "v1":
        assert body["meta"]["has_more"] is ("next_cursor" in body["meta"])
        assert body["meta"]["count"] == len(body["data"])
    _assert_headers(response, body)
    return body


@pytest.fixture
def acme(
    api: Any, world: World, acme_objects: AcmeObjects
) -> Callable[[ListCase], tuple[str, dict[str, str]]]:
    """Prepare a case: its rows grown, its path, and acme's admin token (its last use already stamped)."""
    auth = world.acme.auth("admin")
    grown: set[Grow] = set()  # v1 and v2 lists of the same rows grow them once

    def prepare(case: ListCase) -> tuple[str, dict[str, str]]:
        if case.grow is not None and case.grow not in grown:
            case.grow(api, world, acme_objects)
            grown.add(case.grow)
        api.get("/api/v2/me", **auth)  # a token's first request of the minute stamps its last_used_at
        return case.path(acme_objects), auth

    return prepare


# --- the suite -------------------------------------------------------------------------------------------


def test_every_list_route_has_a_case(acme_objects, world, api):
    auth = world.acme.auth("admin")
    lists = set()
    for pattern, path in OWN_GET_PATHS.items():
        response = api.get(path(acme_objects), **auth)
        body = response.json() if response["Content-Type"] == "application/json" else {}
        if isinstance(body, list):  # a bare list: a list route outside the envelope
            lists.add(canonical_pattern(pattern))
            continue
        meta = body.get("meta")
        paged = isinstance(meta, dict) and "has_more" in meta
        if isinstance(body.get("data"), list) or "links" in body or paged:
            # An original /v1/ path is its /api/v1/ route's view: that route's case covers it.
            lists.add(canonical_pattern(pattern))

    assert lists <= set(LIST_CASES)
    assert set(LIST_CASES) <= set(OWN_GET_PATHS)


@pytest.mark.parametrize("pattern", PAGED)
def test_a_list_pages_round_trip(acme, api, pattern):
    case = LIST_CASES[pattern]
    path, auth = acme(case)
    whole = _assert_envelope(case, api.get(_with(path, limit=100), **auth))
    assert whole["meta"]["has_more"] is False

    pages = [_assert_envelope(case, api.get(_with(path, limit=case.limit), **auth))]
    while (following := _page_after(api, auth, case, path, pages[-1], "next")) is not None:
        pages.append(_assert_envelope(case, following))
        assert len(pages) <= MAX_PAGES, "next never ends"
    back = [pages[-1]]
    while (preceding := _page_after(api, auth, case, path, back[-1], "prev")) is not None:
        back.append(_assert_envelope(case, preceding))
        assert len(back) <= len(pages), "prev goes past the first page"

    rows = [_key(row) for page in pages for row in page["data"]]
    assert len(pages) >= 2 and all(len(page["data"]) == case.limit for page in pages[:-1])
    assert rows == [_key(row) for row in whole["data"]]  # disjoint pages, the whole list, in order
    assert [page["data"] for page in back] == [page["data"] for page in reversed(pages)]


@pytest.mark.parametrize("pattern", sorted(LIST_CASES))
def test_a_list_answers_if_none_match_with_304(acme, api, pattern):
    case = LIST_CASES[pattern]
    path, auth = acme(case)
    first = api.get(_with(path, limit=case.limit) if case.kind != "whole" else path, **auth)
    # A page reached by a cursor keeps its ETag too (the cursors in its body are not part of the content).
    pages = (
        [first, _page_after(api, auth, case, path, first.json(), "next")] if case.kind != "whole" else [first]
    )

    for page in pages:
        again = api.get(page.wsgi_request.get_full_path(), HTTP_IF_NONE_MATCH=page["ETag"], **auth)

        _assert_envelope(case, page)
        assert again.status_code == 304 and again.content == b""
        assert (again["ETag"], again["Cache-Control"]) == (page["ETag"], page["Cache-Control"])
        assert again.get("Link") == page.get("Link")
        assert again.has_header("X-Request-Id") and all(again.has_header(h) for h in RATE_LIMIT_HEADERS)


@pytest.mark.parametrize("pattern", sorted(LIST_CASES))
def test_a_list_pins_its_query_count(acme, api, settings, django_assert_num_queries, pattern):
    case = LIST_CASES[pattern]
    path, auth = acme(case)
    settings.AURUM_READ_CACHE = False  # every page is computed: the count is the read's, not the cache's
    if case.kind == "whole":
        small, large = (_extended(path, extra) for extra in case.sizes)
    else:
        small, large = _with(path, limit=1), _with(path, limit=20)
    # A first call outside the count: what a credential's first request of a while writes once (the token's
    # last_used_at, at most once a minute; the usage month total) is not the list's cost, and a count
    # straddling that minute would differ by one.
    api.get(small, **auth)

    with django_assert_num_queries(case.queries):
        few = api.get(small, **auth)
    with django_assert_num_queries(case.queries):
        many = api.get(large, **auth)

    assert few.status_code == many.status_code == 200
    if case.kind != "whole":
        assert _size(few.json()["data"]) == 1 < _size(many.json()["data"])
    elif case.sizes != ("", ""):
        assert _size(few.json()["data"]) < _size(many.json()["data"])


@pytest.mark.parametrize("pattern", PAGED)
def test_a_list_refuses_paging_input_it_cannot_honour(acme, api, pattern):
    case = LIST_CASES[pattern]
    path, auth = acme(case)
    offset = "5" if case.kind == "v2" else "-1"  # v2 pages by cursor only; v1 takes a whole offset
    bad = [{"limit": "0"}, {"limit": "abc"}, {"limit": "100000"}, {"cursor": "garbage"}, {"offset": offset}]

    answers = [api.get(_with(path, **params), **auth) for params in bad]

    assert [a.status_code for a in answers] == [400] * len(bad)
    assert {a["Content-Type"] for a in answers} == {"application/problem+json"}


def test_a_cursor_is_refused_by_every_other_list(acme, api):
    """One cursor convention: a cursor is bound to the list and filters it was issued for."""
    issued = {}
    for pattern in PAGED:
        case = LIST_CASES[pattern]
        path, auth = acme(case)
        meta = api.get(_with(path, limit=1), **auth).json()["meta"]
        issued[pattern] = (case, path, meta["next_cursor"])

    accepted = []
    for pattern, (case, path, _) in issued.items():
        for other, (other_case, _, cursor) in issued.items():
            if other != pattern and other_case.kind == case.kind:
                response = api.get(_with(path, cursor=cursor, limit=1), **auth)
                if response.status_code != 400:
                    accepted.append((other, pattern, response.status_code))

    assert sorted(accepted) == []
