"""/api/v2/audit and /api/v2/audit/export: admins read and export their tenant's ledger (filters, cursor,
streamed CSV and JSONL with the chain head); the export verifies offline with docs/audit.md's script, which
names the first bad sequence of a tampered file; analysts and tokens without ``audit:read`` get 403."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.accounts.services import api_token_create
from apps.audit.services import audit_append
from tests.support.audit import head_sequence, ledger
from tests.support.doc_examples import doc_example, example_run

DOC = "docs/audit.md"


def _append(schema: str, *actions: str) -> None:
    with schema_context(schema), transaction.atomic():
        for n, action in enumerate(actions):
            audit_append(action=action, resource_type="test", resource_id=f"r{n}", changes={"n": n})


def _export(api: Any, auth: dict[str, str], export_format: str) -> tuple[Any, bytes]:
    response = api.get(f"/api/v2/audit/export?format={export_format}", **auth)
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content)


def _verify(path: Path, head_hash: str = "") -> Any:
    return example_run(
        doc_example(DOC, "audit-verify-python"), env={"AUDIT_FILE": str(path), "AUDIT_HEAD_HASH": head_hash}
    )


def test_admin_lists_the_ledger_newest_first_with_filters(world, api):
    _append("acme", "test.alpha", "test.beta", "test.alpha")
    auth = world.acme.auth("admin")
    head = head_sequence("acme")

    everything = api.get("/api/v2/audit?limit=3", **auth)
    alphas = api.get("/api/v2/audit?action=test.alpha", **auth)
    tests = api.get("/api/v2/audit?action=test.&resource=test:r1", **auth)
    system = api.get("/api/v2/audit?actor=system&action=test.", **auth)
    tokens = api.get("/api/v2/audit?actor=token&action=test.", **auth)
    future = api.get("/api/v2/audit?from=2999-01-01T00:00:00Z", **auth)

    assert everything.status_code == 200
    body = everything.json()
    assert [e["sequence"] for e in body["data"]] == [head, head - 1, head - 2]
    assert body["links"]["next"] is not None
    first = body["data"][0]
    assert first["action"] == "test.alpha" and first["resource"] == {"type": "test", "id": "r2"}
    assert first["actor"] == {"kind": "system", "id": "", "display": "system"}
    assert first["changes"] == {"n": 2}
    assert first["prev_hash"] == body["data"][1]["hash"]
    assert [e["sequence"] for e in alphas.json()["data"]] == [head, head - 2]
    assert [e["sequence"] for e in tests.json()["data"]] == [head - 1]
    assert [e["sequence"] for e in system.json()["data"]] == [head, head - 1, head - 2]
    assert tokens.json()["data"] == []
    assert future.json()["data"] == []


def test_filters_that_mean_nothing_are_400(world, api):
    auth = world.acme.auth("admin")

    actor = api.get("/api/v2/audit?actor=robot", **auth)
    when = api.get("/api/v2/audit?from=yesterday", **auth)
    export_format = api.get("/api/v2/audit/export?format=xml", **auth)

    assert (actor.status_code, when.status_code, export_format.status_code) == (400, 400, 400)
    assert actor["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/api/v2/audit", "/api/v2/audit/export"])
def test_analysts_and_tokens_without_audit_read_are_refused(world, api, path):
    admin = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, narrow = api_token_create(membership=admin, name="bi", scopes=["curves:read", "scenarios:read"])
    before = head_sequence("acme")

    analyst = api.get(path, **world.acme.auth("analyst"))
    viewer = api.get(path, **world.acme.auth("viewer"))
    scoped = api.get(path, HTTP_AUTHORIZATION=f"Bearer {narrow}")

    assert (analyst.status_code, viewer.status_code, scoped.status_code) == (403, 403, 403)
    assert "audit:read" in scoped.json()["detail"]
    assert head_sequence("acme") == before  # a refused export records nothing


def test_each_tenant_reads_only_its_own_ledger(world, api):
    _append("globex", "test.globex-only")

    acme = api.get("/api/v2/audit?action=test.globex-only", **world.acme.auth("admin"))
    globex = api.get("/api/v2/audit?action=test.globex-only", **world.globex.auth("admin"))

    assert acme.json()["data"] == []
    assert [e["action"] for e in globex.json()["data"]] == ["test.globex-only"]


def test_jsonl_export_is_the_whole_chain_with_its_head_and_verifies_offline(world, api, tmp_path):
    _append("acme", "test.one", "test.two")

    response, content = _export(api, world.acme.auth("admin"), "jsonl")

    entries = ledger("acme")
    lines = [json.loads(line) for line in content.decode().splitlines()]
    *rows, trailer = lines
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Audit-Head-Sequence"] == str(entries[-1].sequence)
    assert response["X-Audit-Head-Hash"] == entries[-1].hash
    assert [row["sequence"] for row in rows] == [e.sequence for e in entries]
    assert rows[-1]["action"] == "audit.export"
    assert rows[-1]["actor"]["kind"] == "token" and rows[-1]["changes"] == {"format": "jsonl"}
    assert trailer == {
        "entries": len(entries),
        "head": {"sequence": entries[-1].sequence, "hash": entries[-1].hash},
    }
    exported = tmp_path / "audit.jsonl"
    exported.write_bytes(content)
    result = _verify(exported, response["X-Audit-Head-Hash"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        result.stdout.strip() == f"OK: {len(entries)} entries, head {entries[-1].sequence} {entries[-1].hash}"
    )


def test_csv_export_verifies_offline(world, api, tmp_path):
    _append("acme", "test.csv")

    response, content = _export(api, world.acme.auth("admin"), "csv")

    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert response["Content-Type"] == "text/csv"
    assert [int(row["sequence"]) for row in rows] == [e.sequence for e in ledger("acme")]
    assert rows[-1]["action"] == "audit.export" and rows[-1]["changes"] == '{"format":"csv"}'
    exported = tmp_path / "audit.csv"
    exported.write_bytes(content)
    result = _verify(exported, response["X-Audit-Head-Hash"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("edit", "sequence {k}: hash does not match the entry's contents"),
        ("delete", "sequence {k}: missing or moved (the next entry is {k1})"),
        ("swap", "sequence {k}: missing or moved (the next entry is {k1})"),
        ("relink", "sequence {k}: prev_hash is not the hash of entry {k0}"),
        ("truncate", "the trailer names head"),
    ],
)
def test_the_doc_script_names_the_first_bad_sequence_of_a_tampered_export(
    world, api, tmp_path, tamper, message
):
    _append("acme", "test.a", "test.b", "test.c")
    response, content = _export(api, world.acme.auth("admin"), "jsonl")
    lines = content.decode().splitlines()
    k = len(lines) - 4  # the sequence of test.b (lines: entries 1..n, then the trailer)
    index = k - 1
    if tamper == "edit":
        row = json.loads(lines[index])
        row["changes"] = {"n": 42}
        lines[index] = json.dumps(row)
    elif tamper == "delete":
        del lines[index]
    elif tamper == "swap":
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    elif tamper == "relink":  # swapped and renumbered, so the sequences run on
        first, second = json.loads(lines[index]), json.loads(lines[index + 1])
        first["sequence"], second["sequence"] = second["sequence"], first["sequence"]
        lines[index], lines[index + 1] = json.dumps(second), json.dumps(first)
    else:
        del lines[-2]  # the newest entry, with the trailer kept
    exported = tmp_path / "audit.jsonl"
    exported.write_text("\n".join(lines) + "\n")

    result = _verify(exported)

    assert result.returncode == 1
    assert result.stdout.startswith(message.format(k=k, k0=k - 1, k1=k + 1)), result.stdout
