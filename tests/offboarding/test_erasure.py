"""Erasure of a person: their email replaced by a pseudonym in every schema, memberships and tokens gone,
and every tenant's audit chain still verifies — version-2 entries untouched under their hashes, version-1
entries (written before decision 0033, their hash covering the email) redacted and listed by the erasure."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.services import api_token_create, membership_create, user_create
from apps.audit.canonical import entry_body, entry_hash, timestamp_text
from apps.audit.models import AuditEntry
from apps.audit.verification import audit_chain_verify
from apps.offboarding.pseudonyms import person_pseudonym
from aurum.idempotency.models import IdempotentRequest
from tenants.models import Tenant
from tests.support.audit import ledger, triggers_off
from tests.support.doc_examples import doc_example, example_run

EMAIL = "erin.erase@acme.example"
TEXT_TYPES = ("text", "character varying", "json", "jsonb")


def _v1_entry_by(schema: str, *, email: str, actor_id: str) -> int:
    """Append an entry as written before chain version 2 (its hash covers the display email)."""
    head = ledger(schema)[-1]
    at = head.at
    body = entry_body(
        sequence=head.sequence + 1,
        at=timestamp_text(at),
        actor_kind="user",
        actor_id=actor_id,
        actor_display=email,
        action="scenario.create",
        resource_type="scenario",
        resource_id="old",
        changes={"name": "From before", "owner": email},
        request_id="req-old",
        remote_addr="198.51.100.77",
        version=1,
    )
    with triggers_off(schema) as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (sequence, at, actor_kind, actor_id, actor_display, action,"
            " resource_type, resource_id, changes, request_id, remote_addr, prev_hash, hash, version,"
            " personal) VALUES (%s, %s, 'user', %s, %s, 'scenario.create', 'scenario', 'old', %s,"
            " 'req-old', '198.51.100.77', %s, %s, 1, '{}')",
            [
                head.sequence + 1,
                at,
                actor_id,
                email,
                json.dumps(body["changes"], sort_keys=True, separators=(",", ":")),
                head.hash,
                entry_hash(head.hash, body),
            ],
        )
    return head.sequence + 1


def _schema_hits(schema: str, needle: str) -> list[str]:
    """Every table.column of ``schema`` whose text holds ``needle`` (any case)."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN"
            " information_schema.tables t USING (table_schema, table_name) WHERE c.table_schema = %s"
            " AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)",
            [schema, list(TEXT_TYPES)],
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text ILIKE %s', [f"%{needle}%"]
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


@pytest.fixture
def erin(world):
    user = user_create(email=EMAIL, password="erin-password-123", full_name="Erin Erase")
    acme = Tenant.objects.get(schema_name="acme")
    membership = membership_create(user=user, tenant=acme, role="admin")
    token, raw = api_token_create(membership=membership, name="erin's bot")
    return user, token, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_erasure_pseudonymizes_everywhere_and_the_chains_still_verify(world, api, erin):
    # Given Erin acted in acme through the API (token), was invited to globex, and has a pre-v2 entry
    user, token, auth = erin
    created = api.post(
        "/api/v2/scenarios",
        {"name": "Erin's"},
        format="json",
        REMOTE_ADDR="203.0.113.50",
        HTTP_IDEMPOTENCY_KEY="erin-create-1",
        **auth,
    )
    portal = Client(HTTP_HOST=world.globex.host)
    portal.force_login(User.objects.get(email="admin@globex.example"))
    invited = portal.post("/settings/members/invite/", {"email": EMAIL.upper(), "role": "viewer"})
    assert (created.status_code, invited.status_code) == (201, 302)
    v1_sequence = _v1_entry_by("acme", email=EMAIL, actor_id=str(user.pk))
    assert _schema_hits("acme", EMAIL) and _schema_hits("globex", EMAIL)
    with schema_context("acme"):  # her stored (sealed) answer to the idempotent create
        assert IdempotentRequest.objects.filter(credential=f"token:{token.pk}").count() == 1
    globex_before = [(e.sequence, e.hash) for e in ledger("globex")]

    # When platform staff erase her
    out = StringIO()
    call_command("erase_person", EMAIL, staff=world.staff_email, stdout=out)

    # Then her email is nowhere, in any schema
    pseudonym = person_pseudonym(EMAIL)
    report = json.loads(out.getvalue())
    assert (
        report["pseudonym"] == pseudonym
        and pseudonym.startswith("erased-")
        and pseudonym.endswith("@invalid")
    )
    for schema in ("acme", "globex", "ops", "public"):
        assert _schema_hits(schema, EMAIL) == [], schema
    user.refresh_from_db()
    assert (user.email, user.full_name, user.is_active, user.has_usable_password()) == (
        pseudonym,
        "",
        False,
        False,
    )
    assert not Membership.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    with schema_context("acme"):
        assert not IdempotentRequest.objects.filter(credential=f"token:{token.pk}").exists()
    assert api.get("/api/v2/scenarios", **auth).status_code == 401
    # and both ledgers verify, with the erasure as their last entry
    for schema in ("acme", "globex"):
        with schema_context(schema):
            assert audit_chain_verify().ok, schema
            last = AuditEntry.objects.order_by("-sequence")[0]
        assert (last.action, last.actor_display) == ("person.erase", f"platform staff ({world.staff_email})")
        assert last.changes_data["subject"] == pseudonym
    acme = {e.sequence: e for e in ledger("acme")}
    erase = max(acme)
    assert acme[erase].changes_data["redacted"] == [v1_sequence]
    assert acme[v1_sequence].redacted_by == erase
    assert acme[v1_sequence].actor_display == pseudonym and acme[v1_sequence].remote_addr == ""
    by_token = [e for e in acme.values() if e.actor_kind == "token" and e.actor_id == str(token.pk)]
    assert [e.action for e in by_token] == ["scenario.create"]
    assert by_token[0].actor_display == f"erin's bot ({pseudonym})" and by_token[0].remote_addr == ""
    # globex's earlier entries kept their hashes (the invitation's email was outside the hash)
    assert [(e.sequence, e.hash) for e in ledger("globex")][: len(globex_before)] == globex_before


@pytest.mark.parametrize("export_format", ["jsonl", "csv"])
def test_an_export_after_erasure_verifies_offline_with_the_docs_script(
    world, api, erin, tmp_path, export_format
):
    user, _, _ = erin
    _v1_entry_by("acme", email=EMAIL, actor_id=str(user.pk))
    call_command("erase_person", EMAIL, staff=world.staff_email, stdout=StringIO())

    response = api.get(f"/api/v2/audit/export?format={export_format}", **world.acme.auth("admin"))
    path = tmp_path / f"audit.{export_format}"
    path.write_bytes(b"".join(response.streaming_content))
    ran = example_run(
        doc_example("docs/audit.md", "audit-verify-python"),
        env={"AUDIT_FILE": str(path), "AUDIT_HEAD_HASH": response["X-Audit-Head-Hash"]},
    )

    assert EMAIL not in path.read_text()
    assert ran.returncode == 0 and ran.stdout.startswith("OK:"), ran.stdout + ran.stderr


def test_a_redaction_not_listed_by_an_erasure_breaks_the_chain(world, erin):
    user, _, _ = erin
    sequence = _v1_entry_by("acme", email=EMAIL, actor_id=str(user.pk))

    # When someone marks the entry redacted (as the app's role may) without an erasure listing it
    with schema_context("acme"):
        AuditEntry.objects.filter(sequence=sequence).update(redacted_by=1, actor_display="someone else")
        report = audit_chain_verify()

    assert (report.ok, report.bad_sequence) == (False, sequence)
    assert "not an erasure listing it" in report.reason


def test_unknown_email_and_non_staff_are_refused_and_nothing_changes(world, erin):
    user, _, _ = erin
    before = ledger("acme")[-1].sequence

    with pytest.raises(CommandError, match="No user has the email"):
        call_command("erase_person", "nobody@acme.example", staff=world.staff_email)
    with pytest.raises(CommandError, match="not an active platform staff"):
        call_command("erase_person", EMAIL, staff="admin@acme.example")

    user.refresh_from_db()
    assert (user.email, user.is_active) == (EMAIL, True)
    assert ledger("acme")[-1].sequence == before


def test_a_second_erasure_rewrites_an_entry_an_earlier_one_redacted(world, erin):
    # Given a pre-v2 entry naming two people, and the first of them erased
    user, _, _ = erin
    other = user_create(email="olga.other@acme.example", password="olga-password-123")
    sequence = _v1_entry_by("acme", email=EMAIL, actor_id=str(user.pk))
    with triggers_off("acme") as cursor:
        # a change of the fixture itself (as if written so): both emails in the hashed body
        entry = ledger("acme")[-1]
        body = entry.body()
        body["changes"] = {**body["changes"], "reviewer": "olga.other@acme.example"}
        cursor.execute(
            "UPDATE audit_auditentry SET changes = %s, hash = %s WHERE sequence = %s",
            [
                json.dumps(body["changes"], sort_keys=True, separators=(",", ":")),
                entry_hash(entry.prev_hash, body),
                sequence,
            ],
        )
    call_command("erase_person", EMAIL, staff=world.staff_email, stdout=StringIO())
    first = {e.sequence: e for e in ledger("acme")}[sequence].redacted_by

    # When the second is erased
    call_command("erase_person", other.email, staff=world.staff_email, stdout=StringIO())

    # Then neither email is left, the entry keeps the first erasure, and the chain verifies
    entry = {e.sequence: e for e in ledger("acme")}[sequence]
    assert entry.redacted_by == first
    assert person_pseudonym(other.email) in entry.changes and "olga.other" not in entry.changes
    assert _schema_hits("acme", "olga.other@acme.example") == []
    with schema_context("acme"):
        assert audit_chain_verify().ok
