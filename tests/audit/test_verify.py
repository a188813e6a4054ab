"""``manage.py audit_verify`` names the first bad sequence of an edited, deleted, inserted or reordered entry
(tampered as the database owner with the trigger off); beat's nightly run raises ``audit.chain.broken``;
concurrent writers keep the chain gapless and linear."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.audit.services import audit_append
from apps.audit.tasks import audit_verify_all_task
from apps.audit.verification import audit_chain_verify
from aurum.events.models import OutboxEvent
from tests.support.audit import forged_hash, head_sequence, ledger, triggers_off


@pytest.fixture
def five(world) -> int:
    """Five fresh entries at the head of acme's ledger; the sequence of the first."""
    first = head_sequence("acme") + 1
    with schema_context("acme"), transaction.atomic():
        for n in range(5):
            audit_append(action="test.step", resource_type="test", resource_id=str(n), changes={"n": n})
    return first


def _verify(schema: str = "acme") -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", tenant=schema, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_an_intact_chain_verifies(world, five):
    status, out, err = _verify()

    assert status == 0 and err == ""
    assert out.startswith(f"acme: ok, {five + 4} entries, head ")


def test_an_edited_entry_is_named(world, five):
    with triggers_off("acme") as cursor:
        cursor.execute("UPDATE audit_auditentry SET changes = %s WHERE sequence = %s", ['{"n":99}', five + 2])

    status, _, err = _verify()

    assert status == 1
    assert f"BROKEN at sequence {five + 2}: hash does not match the entry's contents" in err


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(world, five):
    target = ledger("acme")[five + 1]  # sequence five + 2
    forged = forged_hash(target, prev_hash=target.prev_hash, changes='{"n":99}')
    with triggers_off("acme") as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET changes = %s, hash = %s WHERE sequence = %s",
            ['{"n":99}', forged, five + 2],
        )

    _, _, err = _verify()

    assert f"BROKEN at sequence {five + 3}: prev_hash does not match the hash of entry {five + 2}" in err


def test_a_deleted_entry_is_named(world, five):
    with triggers_off("acme") as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE sequence = %s", [five + 1])

    status, _, err = _verify()

    assert status == 1
    assert (
        f"BROKEN at sequence {five + 1}: entry {five + 1} is missing (the next stored entry is {five + 2})"
        in err
    )


def test_an_inserted_entry_is_named(world, five):
    """A forged entry slipped in after ``five + 1`` (the later ones renumbered): it links to its predecessor
    and hashes right, so the chain breaks at the entry after it."""
    predecessor = ledger("acme")[five]  # sequence five + 1
    template = ledger("acme")[five]
    forged = forged_hash(template, prev_hash=predecessor.hash, sequence=five + 2, action="test.forged")
    with triggers_off("acme") as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET sequence = sequence + 1000 WHERE sequence > %s", [five + 1]
        )
        cursor.execute(
            "UPDATE audit_auditentry SET sequence = sequence - 999 WHERE sequence > %s", [five + 1000]
        )
        cursor.execute(
            "INSERT INTO audit_auditentry (sequence, at, actor_kind, actor_id, actor_display, action,"
            " resource_type, resource_id, changes, request_id, remote_addr, prev_hash, hash, version,"
            " personal)"
            " SELECT %s, at, actor_kind, actor_id, actor_display, 'test.forged', resource_type, resource_id,"
            " changes, request_id, remote_addr, %s, %s, version, personal FROM audit_auditentry"
            " WHERE sequence = %s",
            [five + 2, predecessor.hash, forged, five + 1],
        )

    status, _, err = _verify()

    assert status == 1
    assert f"BROKEN at sequence {five + 3}: prev_hash does not match the hash of entry {five + 2}" in err


def test_reordered_entries_are_named(world, five):
    with triggers_off("acme") as cursor:
        a, b = five + 2, five + 3
        cursor.execute("UPDATE audit_auditentry SET sequence = -1 WHERE sequence = %s", [a])
        cursor.execute("UPDATE audit_auditentry SET sequence = %s WHERE sequence = %s", [a, b])
        cursor.execute("UPDATE audit_auditentry SET sequence = %s WHERE sequence = -1", [b])

    status, _, err = _verify()

    assert status == 1
    assert f"BROKEN at sequence {five + 2}: prev_hash does not match the hash of entry {five + 1}" in err


def test_one_tenants_break_does_not_fail_another(world, five):
    with triggers_off("acme") as cursor:
        cursor.execute("UPDATE audit_auditentry SET action = 'x' WHERE sequence = %s", [five])

    assert _verify("globex")[0] == 0
    assert _verify("acme")[0] == 1


def test_an_unknown_tenant_is_an_error(world):
    with pytest.raises(CommandError, match="No tenant with the schema 'nobody'"):
        call_command("audit_verify", tenant="nobody")


def test_nightly_verification_raises_an_alert_event_for_a_broken_chain(world, five):
    with triggers_off("acme") as cursor:
        cursor.execute("UPDATE audit_auditentry SET resource_id = 'x' WHERE sequence = %s", [five + 4])
    already = set(OutboxEvent.objects.filter(event_type="audit.chain.broken").values_list("pk", flat=True))

    result = audit_verify_all_task.run()

    assert result["acme"] == five + 4
    assert result["globex"] is None
    [alert] = OutboxEvent.objects.filter(event_type="audit.chain.broken").exclude(pk__in=already)
    assert alert.tenant_schema == "acme"
    assert alert.payload["sequence"] == five + 4
    assert alert.payload["reason"] == "hash does not match the entry's contents (the entry was edited)"


def test_concurrent_writers_keep_the_chain_gapless_and_linear(committed_world):
    """Two threads append 25 entries each, in their own transactions at once: 50 new sequences, no gap, no
    fork, and the chain verifies. They commit (in the ops tenant's ledger, which no other test counts):
    entries cannot be removed."""
    before = head_sequence("ops")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for n in range(25):
                with schema_context("ops"), transaction.atomic():
                    audit_append(
                        action="test.concurrent", resource_type="writer", resource_id=name, changes={"n": n}
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    new = [e for e in ledger("ops") if e.sequence > before]
    assert [e.sequence for e in new] == list(range(before + 1, before + 51))
    assert sorted((e.resource_id, e.changes_data["n"]) for e in new) == sorted(
        (name, n) for name in ("a", "b") for n in range(25)
    )
    assert all(e.prev_hash == p.hash for p, e in zip(new, new[1:], strict=False))
    with schema_context("ops"):
        assert audit_chain_verify().ok
