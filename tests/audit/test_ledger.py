"""The ledger: business actions through the API append entries with their actor, request id and address;
the chain verifies; the database refuses to change or remove an entry."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.audit.canonical import GENESIS_HASH, canonical_json, entry_hash
from apps.audit.context import AuditActor
from apps.audit.models import AuditEntry
from apps.audit.services import AuditRecord, audit_append, audit_append_many
from apps.audit.verification import audit_chain_verify
from tests.support.audit import head_sequence, ledger


def _new_entries(schema: str, after: int) -> list[AuditEntry]:
    return [entry for entry in ledger(schema) if entry.sequence > after]


def test_scenario_created_by_a_token_is_recorded_with_the_token_request_id_and_address(world, api):
    before = head_sequence("acme")
    token_id = world.acme.members["trader"].token_id

    response = api.post(
        "/api/v2/scenarios",
        {"name": "Audit me", "tags": ["x"]},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
        REMOTE_ADDR="198.51.100.7",
        **world.acme.auth("trader"),
    )

    assert response.status_code == 201, response.content
    scenario_id = response.json()["data"]["id"]
    [entry] = _new_entries("acme", before)
    assert entry.sequence == before + 1
    assert (entry.action, entry.resource_type, entry.resource_id) == (
        "scenario.create",
        "scenario",
        scenario_id,
    )
    assert (entry.actor_kind, entry.actor_id) == ("token", str(token_id))
    assert entry.actor_display.endswith("(trader@acme.example)")
    assert (entry.request_id, entry.remote_addr) == ("req-audit-1", "198.51.100.7")
    changes = entry.changes_data
    assert (changes["name"], changes["tags"], changes["version"], changes["assumptions"]) == (
        "Audit me",
        ["x"],
        1,
        0,
    )
    assert entry.changes == canonical_json(changes)
    assert entry.prev_hash == ledger("acme")[before - 1].hash if before else GENESIS_HASH
    assert entry.hash == entry_hash(entry.prev_hash, entry.body())
    with schema_context("acme"):
        assert audit_chain_verify().ok


def test_update_and_delete_are_recorded_in_order(world, api):
    auth = world.acme.auth("trader")
    created = api.post("/api/v2/scenarios", {"name": "Lifecycle"}, format="json", **auth).json()["data"]
    before = head_sequence("acme")

    patched = api.patch(f"/api/v2/scenarios/{created['id']}", {"description": "new"}, format="json", **auth)
    deleted = api.delete(f"/api/v2/scenarios/{created['id']}", **auth)

    assert (patched.status_code, deleted.status_code) == (200, 204)
    entries = _new_entries("acme", before)
    assert [(e.sequence, e.action) for e in entries] == [
        (before + 1, "scenario.update"),
        (before + 2, "scenario.delete"),
    ]
    assert entries[0].changes_data["fields"] == ["description"]
    assert entries[0].changes_data["description"] == "new"
    assert entries[1].prev_hash == entries[0].hash


def test_session_requests_record_the_user(world, client):
    client.login(username="trader@acme.example", password=world.acme.members["trader"].password)
    before = head_sequence("acme")

    response = client.post(
        "/api/v2/scenarios",
        data=json.dumps({"name": "By session"}),
        content_type="application/json",
        HTTP_HOST="acme.localhost",
    )

    assert response.status_code == 201, response.content
    [entry] = _new_entries("acme", before)
    assert (entry.actor_kind, entry.actor_display) == ("user", "trader@acme.example")


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(world, api, settings):
    auth = world.acme.auth("trader")
    before = head_sequence("acme")
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "REMOTE_ADDR": "10.0.0.5"}

    api.post("/api/v2/scenarios", {"name": "Untrusted hop"}, format="json", **forged, **auth)
    settings.AURUM_TRUSTED_PROXIES = ["10.0.0.0/8"]
    api.post(
        "/api/v2/scenarios",
        {"name": "Trusted hop"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.4",
        REMOTE_ADDR="10.0.0.5",
        **auth,
    )

    assert [e.remote_addr for e in _new_entries("acme", before)] == ["10.0.0.5", "203.0.113.9"]


def test_token_and_member_actions_are_recorded_in_their_tenant(world, api):
    before_acme, before_globex = head_sequence("acme"), head_sequence("globex")
    auth = world.acme.auth("admin")
    analyst = world.acme.members["analyst"].membership_id
    portal = Client(HTTP_HOST=world.acme.host, REMOTE_ADDR="192.0.2.10")
    portal.force_login(User.objects.get(email="admin@acme.example"))

    token = api.post("/api/v2/tokens", {"name": "bi-tool", "scopes": ["curves:read"]}, format="json", **auth)
    revoked = api.delete(f"/api/v2/tokens/{token.json()['data']['id']}", **auth)
    invited = portal.post("/settings/members/invite/", {"email": "new@acme.example", "role": "viewer"})
    role = portal.post(f"/settings/members/{analyst}/role/", {"role": "trader"})
    removed = portal.post(f"/settings/members/{analyst}/remove/")

    assert (token.status_code, revoked.status_code) == (201, 204)
    assert (invited.status_code, role.status_code, removed.status_code) == (302, 302, 302)
    entries = _new_entries("acme", before_acme)
    assert [(e.action, e.actor_kind, e.actor_display) for e in entries] == [
        ("token.create", "token", "admin token (admin@acme.example)"),
        ("token.revoke", "token", "admin token (admin@acme.example)"),
        ("member.invite", "user", "admin@acme.example"),
        ("member.role_change", "user", "admin@acme.example"),
        ("member.remove", "user", "admin@acme.example"),
    ]
    assert entries[0].changes_data["scopes"] == ["curves:read"]
    # Emails are kept outside the hashed body (chain version 2, decision 0033); the body names the user's id.
    analyst_user = User.objects.get(email="analyst@acme.example").pk
    assert entries[2].personal_data == {"email": "new@acme.example"}
    assert "new@acme.example" not in entries[2].changes
    assert entries[3].changes_data == {"user": analyst_user, "from": "analyst", "to": "trader"}
    assert entries[4].changes_data == {"user": analyst_user, "role": "trader"}
    assert [e.personal_data for e in entries[3:]] == [{"email": "analyst@acme.example"}] * 2
    assert {e.version for e in entries} == {2}
    assert {e.remote_addr for e in entries[2:]} == {"192.0.2.10"}
    assert head_sequence("globex") == before_globex


def test_the_database_refuses_update_delete_and_truncate(world):
    with schema_context("acme"), transaction.atomic():
        audit_append(action="test.append", resource_type="test", resource_id="1")
    for statement in (
        "UPDATE audit_auditentry SET action = 'x'",
        # Erasure may rewrite only what lies outside the hash (decision 0033): never a version-2 body.
        "UPDATE audit_auditentry SET changes = '{}' WHERE version = 2",
        "UPDATE audit_auditentry SET redacted_by = 1 WHERE version = 2",
        "UPDATE audit_auditentry SET hash = md5(hash) || md5(hash)",
        "DELETE FROM audit_auditentry",
        "TRUNCATE audit_auditentry",
    ):
        with schema_context("acme"), pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    with schema_context("acme"):
        assert AuditEntry.objects.filter(action="test.append").count() == 1
        assert audit_chain_verify().ok


def test_entries_appended_together_chain_in_order_like_single_appends(world, django_assert_num_queries):
    before = head_sequence("acme")
    alice = AuditActor(kind="user", id="7", display="alice")
    records = [
        AuditRecord("test.bulk", "test", "1", {"n": 1}),
        AuditRecord("test.bulk", "test", "2", {"n": 2}, actor=alice, personal={"email": "a@example.com"}),
        AuditRecord("test.bulk", "test", "3"),
    ]

    with schema_context("acme"), transaction.atomic():
        # its savepoint, the lock, the head, one INSERT of the three, the release
        with django_assert_num_queries(5):
            appended = audit_append_many(records)
        audit_append(action="test.single", resource_type="test", resource_id="4")

    entries = ledger("acme")[before:]
    assert [(e.sequence, e.action, e.resource_id) for e in entries] == [
        (before + 1, "test.bulk", "1"),
        (before + 2, "test.bulk", "2"),
        (before + 3, "test.bulk", "3"),
        (before + 4, "test.single", "4"),
    ]
    assert [e.sequence for e in appended] == [before + 1, before + 2, before + 3]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert (entries[1].actor_kind, entries[1].actor_display, json.loads(entries[1].changes)) == (
        "user",
        "alice",
        {"n": 2},
    )
    assert json.loads(entries[1].personal) == {"email": "a@example.com"}
    assert entries[0].actor_kind == entries[2].actor_kind == "system"
    with schema_context("acme"):
        assert audit_chain_verify().ok


def test_outside_a_tenant_append_refuses(world):
    with pytest.raises(RuntimeError, match="tenant schema"), transaction.atomic():
        audit_append(action="test.append", resource_type="test", resource_id="1")


def test_a_rolled_back_change_leaves_no_entry(world):
    before = head_sequence("acme")
    with schema_context("acme"), pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_append(action="test.append", resource_type="test", resource_id="1")
        1 / 0  # noqa: B018

    assert head_sequence("acme") == before


def test_auditlog_row_history_of_a_token_request_is_in_the_tenant_schema_with_its_actor(world, api):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from apps.scenarios.models import Scenario

    public_before = LogEntry.objects.count()

    response = api.post(
        "/api/v2/scenarios",
        {"name": "Row history"},
        format="json",
        HTTP_X_REQUEST_ID="req-rows-1",
        REMOTE_ADDR="198.51.100.8",
        **world.acme.auth("trader"),
    )

    scenario_id = response.json()["data"]["id"]
    with schema_context("acme"):
        [row] = LogEntry.objects.filter(object_pk=scenario_id)
        assert row.content_type == ContentType.objects.get_for_model(Scenario)
    assert row.actor.email == "trader@acme.example"
    assert (row.cid, row.remote_addr) == ("req-rows-1", "198.51.100.8")
    assert LogEntry.objects.count() == public_before  # nothing in the public table
    with schema_context("globex"):
        assert not LogEntry.objects.filter(object_pk=scenario_id).exists()
