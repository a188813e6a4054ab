"""``manage.py audit_verify [--tenant SCHEMA]``: recompute audit chains; exit status 1 when one is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.verification_runs import audit_verify_tenants


class Command(BaseCommand):
    help = "Verify the audit ledger's hash chain of every active tenant (or one). Exit status 1 on a break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", dest="schema_name", help="a tenant's schema name")

    def handle(self, *args: Any, schema_name: str | None = None, **options: Any) -> None:
        results = audit_verify_tenants(schema_name=schema_name)
        if schema_name and not results:
            raise CommandError(f"No tenant with the schema '{schema_name}'.")
        broken = 0
        for schema, report in results.items():
            if report.ok:
                self.stdout.write(f"{schema}: ok, {report.checked} entries, head {report.head_hash}")
            else:
                broken += 1
                self.stderr.write(
                    f"{schema}: BROKEN at sequence {report.bad_sequence}: {report.reason} "
                    f"({report.checked} entries verified before it)"
                )
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken", returncode=1)
