"""Writing a tenant's export archive: a zip of JSON Lines, Parquet and a manifest of sha256s.

Rows are read in chunks (``QuerySet.iterator``) and written to files in a private work folder as they come;
run outputs are one Parquet file per succeeded run (``run_output_table``, the read the API serves) and the
PPA valuation rows are streamed from Iceberg in record batches, so a big tenant never sits in memory whole.
The zip is assembled from those files at the end (deflated; Parquet is already compressed, stored as is).

Layout::

    manifest.json                 tenant, created_at, Aurum version, every file with sha256, bytes, rows
    scenarios.jsonl               scenario_assumptions.jsonl   runs.jsonl
    runs/<run id>.parquet         the outputs of each succeeded run
    ppa/contracts.jsonl           ppa/valuations.jsonl         ppa/valuation_rows.parquet
    webhooks.jsonl                endpoints, never their secrets
    members.jsonl                 members and their roles
    audit/ledger.jsonl            the ledger (docs/audit.md's JSONL export, trailer included)
    audit/verification.json       the chain check over those entries, and the head
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context
from pyiceberg.exceptions import NoSuchTableError

from apps.accounts.models import Membership
from apps.audit.canonical import canonical_json
from apps.audit.export import export_jsonl
from apps.audit.selectors import audit_head
from apps.audit.verification import audit_chain_verify
from apps.ppa.lakehouse import PPA_VALUATION_ARROW, ppa_rows_export
from apps.ppa.models import PpaContract, PpaValuation
from apps.scenarios.models import Scenario, ScenarioAssumption, ScenarioRun
from apps.scenarios.selectors import run_output_table
from apps.webhooks.models import WebhookEndpoint
from tenants.models import Tenant

CHUNK = 1000
# Never exported: secrets, and the lease/bookkeeping columns of a delivery worker.
WEBHOOK_FIELDS = (
    "id",
    "url",
    "description",
    "events",
    "is_enabled",
    "disabled_reason",
    "disabled_at",
    "sequence",
    "consecutive_failures",
    "created_by_membership_id",
    "created_at",
    "updated_at",
)


@dataclass
class ArchiveFile:
    path: str
    sha256: str
    bytes: int
    rows: int | None


@dataclass
class Archive:
    files: list[ArchiveFile] = field(default_factory=list)


def aurum_version() -> str:
    try:
        return importlib.metadata.version("aurum")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record(archive: Archive, work: Path, name: str, rows: int | None) -> None:
    path = work / name
    archive.files.append(ArchiveFile(name, file_sha256(path), path.stat().st_size, rows))


def _jsonl(archive: Archive, work: Path, name: str, rows: Iterable[dict[str, Any]]) -> None:
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(canonical_json(row) + "\n")
            count += 1
    _record(archive, work, name, count)


def _values(queryset: QuerySet[Any], *fields: str) -> Iterator[dict[str, Any]]:
    return queryset.values(*fields).iterator(chunk_size=CHUNK)


def _members(tenant: Tenant) -> Iterator[dict[str, Any]]:
    memberships = Membership.objects.filter(tenant=tenant).order_by("pk")
    return _values(memberships, "id", "user_id", "user__email", "user__full_name", "role", "created")


def _run_outputs(archive: Archive, work: Path, tenant: Tenant) -> None:
    runs = ScenarioRun.objects.filter(status=ScenarioRun.Status.SUCCEEDED).order_by("created_at", "pk")
    for run in runs.iterator(chunk_size=100):
        table = run_output_table(tenant=tenant, run=run, metric=None)
        name = f"runs/{run.pk}.parquet"
        (work / "runs").mkdir(exist_ok=True)
        pq.write_table(table, work / name)
        _record(archive, work, name, table.num_rows)


def _ppa_rows(archive: Archive, work: Path, tenant: Tenant) -> None:
    """The tenant's PPA valuation rows, read through the query engine one contract at a time."""
    name = "ppa/valuation_rows.parquet"
    (work / "ppa").mkdir(exist_ok=True)
    count = 0
    try:
        with pq.ParquetWriter(work / name, PPA_VALUATION_ARROW) as writer:
            for rows in ppa_rows_export(tenant=tenant):
                writer.write_table(rows)
                count += rows.num_rows
    except NoSuchTableError:
        (work / name).unlink(missing_ok=True)
        return  # nothing valued yet
    _record(archive, work, name, count)


def _audit(archive: Archive, work: Path, tenant: Tenant) -> None:
    head = audit_head()
    (work / "audit").mkdir(exist_ok=True)
    entries = 0
    with (work / "audit/ledger.jsonl").open("wb") as file:
        for chunk in export_jsonl(tenant=tenant, head=head):
            file.write(chunk)
            entries += chunk.count(b"\n")
    _record(archive, work, "audit/ledger.jsonl", entries - 1)  # the trailer is no entry
    report = audit_chain_verify()
    verification = {
        "ok": report.ok,
        "checked": report.checked,
        "head": {"sequence": head.sequence, "hash": head.hash},
        "verified_head": {"sequence": report.head_sequence, "hash": report.head_hash},
        "bad_sequence": report.bad_sequence,
        "reason": report.reason,
    }
    (work / "audit/verification.json").write_text(canonical_json(verification) + "\n", encoding="utf-8")
    _record(archive, work, "audit/verification.json", None)


def archive_write(*, tenant: Tenant, work: Path, target: Path) -> Archive:
    """Write the tenant's data into ``work`` (an empty folder) and zip it to ``target``."""
    archive = Archive()
    with tenant_context(tenant):
        _jsonl(archive, work, "scenarios.jsonl", _values(Scenario.objects.order_by("created_at", "pk")))
        _jsonl(
            archive,
            work,
            "scenario_assumptions.jsonl",
            _values(ScenarioAssumption.objects.order_by("scenario_id", "order", "pk")),
        )
        _jsonl(archive, work, "runs.jsonl", _values(ScenarioRun.objects.order_by("created_at", "pk")))
        _run_outputs(archive, work, tenant)
        _jsonl(
            archive, work, "ppa/contracts.jsonl", _values(PpaContract.objects.order_by("created_at", "pk"))
        )
        _jsonl(
            archive, work, "ppa/valuations.jsonl", _values(PpaValuation.objects.order_by("created_at", "pk"))
        )
        _ppa_rows(archive, work, tenant)
        _jsonl(
            archive,
            work,
            "webhooks.jsonl",
            _values(WebhookEndpoint.objects.order_by("created_at", "pk"), *WEBHOOK_FIELDS),
        )
        _audit(archive, work, tenant)
    _jsonl(archive, work, "members.jsonl", _members(tenant))
    manifest = {
        "format": "aurum-tenant-export",
        "format_version": 1,
        "tenant": {"schema": tenant.schema_name, "name": tenant.name},
        "created_at": timezone.now(),
        "aurum_version": aurum_version(),
        "files": [
            {"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "rows": f.rows}
            for f in sorted(archive.files, key=lambda f: f.path)
        ],
    }
    (work / "manifest.json").write_text(json.dumps(json.loads(canonical_json(manifest)), indent=2) + "\n")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(work / "manifest.json", "manifest.json")
        for item in sorted(archive.files, key=lambda f: f.path):
            stored = item.path.endswith(".parquet")
            bundle.write(
                work / item.path,
                item.path,
                compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
            )
    return archive
