"""A web process keeps the rows every API request reads (a token's, a curve's) while it listens for the
Postgres notifications that say they changed (aurum/process_cache.py, decision 0075). Whatever the cache,
a request answers as if it had asked Postgres: these tests run each case with the process listening and not.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    membership_create,
    user_create,
)
from apps.curves import selectors
from aurum import process_cache
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.versions import versions_known
from aurum.process_cache import (
    InvalidatedCache,
    listener_start,
    listener_stop,
    listening,
    notifications_applied,
    notifications_drained,
)
from tenants.models import Entitlement, Tenant
from tests.support.curves import a_curve
from tests.support.lake import EUGP_DAYS, eod, private_lake

D1, D2, _ = EUGP_DAYS


def _listen() -> None:
    from aurum.lakehouse.catalog import get_catalog

    get_catalog()  # pyiceberg's table of pointers exists before its trigger is made
    assert listener_start().startswith("listening")


@pytest.fixture(params=["listening", "not listening"])
def caches(request: pytest.FixtureRequest, committed_world: Any) -> Iterator[bool]:
    """The process listening (its caches keep rows) or not (every read asks Postgres)."""
    if request.param == "listening":
        _listen()
    yield request.param == "listening"
    listener_stop()


@pytest.fixture
def listening_process(committed_world: Any) -> Iterator[bool]:
    _listen()
    yield True
    listener_stop()


def settled(on: bool) -> None:
    """With the process listening: every notification committed so far has been applied."""
    if on:
        assert notifications_drained()


@pytest.fixture
def member(committed_world: Any) -> Iterator[tuple[Membership, str]]:
    """A committed acme admin with a token of all its scopes (its notifications applied); removed after."""
    user = user_create(email=f"cache-{time.time_ns()}@acme.example", password=None)
    membership = membership_create(
        user=user, tenant=Tenant.objects.get(pk=committed_world.acme.pk), role="admin"
    )
    _, raw = api_token_create(membership=membership, name="cached")
    settled(listening())
    yield membership, raw
    with schema_context(committed_world.acme.schema):  # the user's rows in acme's tables go too
        ApiToken.objects.filter(membership=membership).delete()
        membership.delete()
        user.delete()


def _token_statements(api: Any, raw: str) -> tuple[int, int]:
    """The status of ``/api/v2/me`` and how many statements read the token table for it."""
    with CaptureQueriesContext(connection) as queries:
        status = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code
    return status, sum('"accounts_apitoken"' in q["sql"] and "prefix" in q["sql"] for q in queries)


def test_a_listening_process_reads_a_token_once(api, caches, member):
    _, raw = member

    first, second = _token_statements(api, raw), _token_statements(api, raw)

    assert first == (200, 1)
    assert second == (200, 0 if caches else 1)


def test_a_revoked_token_is_refused_by_a_process_that_kept_it(api, caches, member):
    membership, raw = member
    assert api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    api_token_revoke(token=ApiToken.objects.get(membership=membership))
    settled(caches)
    refused = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_a_wrong_secret_is_refused_though_its_prefix_is_kept(api, caches, member):
    _, raw = member
    assert api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    forged = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")

    assert api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_a_role_lowered_by_a_queryset_update_and_a_user_deactivated_apply_at_once(api, caches, member):
    """Changes no model signal sees (``update()``): the triggers see every committed write."""
    membership, raw = member
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api.get("/api/v2/members", **auth).status_code == 200

    Membership.objects.filter(pk=membership.pk).update(role="viewer")
    settled(caches)
    lowered = api.get("/api/v2/members", **auth).status_code
    User.objects.filter(pk=membership.user_id).update(is_active=False)
    settled(caches)
    inactive = api.get("/api/v2/me", **auth)

    assert lowered == 403
    assert inactive.status_code == 401
    assert "inactive" in inactive.json()["detail"]


def test_a_tokens_last_use_alone_notifies_nothing(listening_process, member):
    membership, _ = member
    token = ApiToken.objects.get(membership=membership)
    before = notifications_applied()

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    settled(True)
    after_use = notifications_applied()
    ApiToken.objects.filter(pk=token.pk).update(name="renamed")
    settled(True)

    assert after_use == before
    assert notifications_applied() == before + 1


def test_a_curve_read_follows_an_ingest_and_a_withdrawn_entitlement(
    api, caches, committed_world, tmp_path, settings
):
    """The curve's catalog row and its table's pointer are kept; the ingest's commits empty them."""
    settings.AURUM_READ_CACHE = False
    globex = committed_world.globex
    with private_lake(tmp_path, [eod("EUGP", D1)]) as lake:
        key = a_curve(day=D1)
        auth = globex.auth("viewer")
        before = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        connection.queries_log.clear()  # the ingest's statements filled it: a full log captures nothing
        with CaptureQueriesContext(connection) as queries:
            again = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        catalog_reads = sum('"curves_curve"' in q["sql"] for q in queries)  # now: the log is a ring
        lake.ingest(eod("EUGP", D2))
        settled(caches)
        after = api.get(f"/api/v2/curves/{key}", **auth).json()["data"]
        entitlement = Entitlement.objects.get(tenant_id=globex.pk, dataset="vendor:EUGP")
        entitlement.delete()
        try:
            settled(caches)
            withdrawn = api.get(f"/api/v2/curves/{key}", **auth).status_code
        finally:
            Entitlement.objects.create(tenant_id=globex.pk, dataset="vendor:EUGP")

    assert catalog_reads == (0 if caches else 1)
    assert again == before
    assert {p["asof_date"] for p in before["points"]} == {D1.isoformat()}
    assert {p["asof_date"] for p in after["points"]} == {D2.isoformat()}
    assert after["curve"]["last_asof"] == D2.isoformat()
    assert withdrawn == 404


def test_a_commit_to_the_curves_table_alone_empties_the_kept_curve_rows(
    api, listening_process, committed_world, tmp_path, settings
):
    """A commit that moves the table's pointer and changes no catalog row (a compaction, say): its
    ``iceberg:`` notification names the table the kept rows point into."""
    settings.AURUM_READ_CACHE = False
    with private_lake(tmp_path, [eod("EUGP", D1)]) as lake:
        key = a_curve(day=D1)
        auth = committed_world.acme.auth("viewer")
        api.get(f"/api/v2/curves/{key}", **auth)

        def catalog_reads() -> int:
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                assert api.get(f"/api/v2/curves/{key}", **auth).status_code == 200
            return sum('"curves_curve"' in q["sql"] for q in queries)

        kept = catalog_reads()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE iceberg_tables SET metadata_location = metadata_location "
                "WHERE catalog_name = %s AND table_name = 'curve_latest'",
                [lake.catalog],
            )
            assert cursor.rowcount == 1
        settled(True)
        after_commit = catalog_reads()

    assert (kept, after_commit) == (0, 1)


def test_a_read_through_takes_only_rows_kept_under_its_data_version(api, caches, committed_world, tmp_path):
    """An answer the read cache stores under a dataset's version never comes from a row kept under another
    (a notification still on its way cannot leave a stale row in a stored answer)."""
    with private_lake(tmp_path, [eod("EUGP", D1)]):
        key = a_curve(day=D1)
        filters = CurveFilters(datasets=("vendor:EUGP",), curve_keys=(key,))

        def catalog_reads(version: int) -> int:
            connection.queries_log.clear()
            with versions_known({"vendor:EUGP": version}), CaptureQueriesContext(connection) as queries:
                curve, _ = selectors.curve_with_points(
                    curve_key=key, datasets=frozenset({"vendor:EUGP"}), filters=filters
                )
            assert curve.curve_key == key
            return sum('"curves_curve"' in q["sql"] for q in queries)

        reads = [catalog_reads(5), catalog_reads(5), catalog_reads(6)]

    assert reads == ([1, 0, 1] if caches else [1, 1, 1])


def test_a_lost_listener_connection_empties_the_caches_until_it_listens_again(api, listening_process, member):
    _, raw = member
    assert _token_statements(api, raw) == (200, 1)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'aurum-invalidation' AND datname = current_database()"
        )
    deadline = time.monotonic() + 5
    while listening() and time.monotonic() < deadline:
        time.sleep(0.005)
    lost = listening()
    while_lost = _token_statements(api, raw)
    deadline = time.monotonic() + 10
    while not listening() and time.monotonic() < deadline:
        time.sleep(0.01)

    assert lost is False
    assert while_lost == (200, 1)  # asked Postgres: nothing kept from before the loss
    assert listening()
    assert _token_statements(api, raw) == (200, 1)  # emptied when it listened again
    assert _token_statements(api, raw) == (200, 0)


def test_each_request_gets_its_own_instances_of_a_kept_token(listening_process, member):
    _, raw = member
    api_token_authenticate(raw=raw)  # read and kept

    first = api_token_authenticate(raw=raw)
    first.membership.role = "viewer"
    first.scopes.append("admin:write")
    second = api_token_authenticate(raw=raw)

    assert first is not second and first.membership is not second.membership
    assert second.membership.role == "admin"
    assert "admin:write" not in second.scopes and second.scopes
    assert second.membership.tenant.plan.code == "enterprise"


class TestTheCacheItself:
    @pytest.fixture
    def cache(self, caches: bool) -> InvalidatedCache[str, int]:
        return InvalidatedCache("test", topics={"t"}, max_entries=3)

    def test_it_keeps_nothing_while_the_process_does_not_listen(self, cache, caches):
        ticket = cache.ticket()

        stored = cache.put("a", 1, ticket)

        assert stored is caches
        assert cache.get("a") == (1 if caches else None)

    def test_a_row_read_before_a_notification_of_its_topic_is_not_kept(self, listening_process):
        cache = InvalidatedCache[str, int]("test", topics={"t"})
        ticket = cache.ticket()
        cache.invalidate("other topic")
        assert cache.put("a", 1, ticket) is True
        ticket = cache.ticket()
        cache.invalidate("t")

        assert cache.put("b", 2, ticket) is False
        assert cache.get("a") is None  # the notification emptied it
        assert cache.get("b") is None

    def test_it_is_bounded_in_entries_and_in_age(self, listening_process, monkeypatch):
        cache = InvalidatedCache[str, int]("test", topics={"t"}, max_entries=3)
        for n in range(4):
            cache.put(str(n), n, cache.ticket())
        assert len(cache) == 1  # full at three: started again empty
        monkeypatch.setattr(process_cache, "MAX_AGE_SECONDS", 0.0)

        assert cache.get("3") is None
