"""``manage.py tenant_offboard SCHEMA --grace-days N`` suspends, exports and schedules the deletion;
``tenant_offboard SCHEMA --execute`` deletes it once the grace has passed; ``tenant_offboard --due``
deletes every tenant whose grace has passed (what the nightly beat task does)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.offboarding.models import OffboardingReport
from apps.offboarding.services import tenant_offboard_due, tenant_offboard_execute, tenant_offboard_schedule
from aurum.errors import AurumError
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Offboard a tenant: suspend, export, delete after a grace period (docs/offboarding.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("schema", nargs="?")
        parser.add_argument("--grace-days", type=int, default=30)
        parser.add_argument("--staff", default="", help="The platform staff member doing it (email).")
        parser.add_argument("--execute", action="store_true", help="Delete now (the grace must have passed).")
        parser.add_argument("--due", action="store_true", help="Delete every tenant whose grace has passed.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["due"]:
                for report in tenant_offboard_due():
                    self.stdout.write(json.dumps({report.schema_name: report.report}, sort_keys=True))
                return
            if not options["schema"]:
                raise CommandError("Name the tenant's schema (or pass --due).")
            if options["execute"]:
                scheduled = OffboardingReport.objects.filter(
                    schema_name=options["schema"], status=OffboardingReport.Status.SCHEDULED
                ).first()
                if scheduled is None:
                    raise CommandError(f"{options['schema']} is not scheduled for deletion.")
                done = tenant_offboard_execute(report=scheduled)
                self.stdout.write(json.dumps(done.report, indent=2, sort_keys=True))
                return
            tenant = Tenant.objects.filter(schema_name=options["schema"]).first()
            if tenant is None:
                raise CommandError(f"No tenant has the schema {options['schema']}.")
            staff = User.objects.filter(email__iexact=options["staff"], is_staff=True).first()
            if options["staff"] and staff is None:
                raise CommandError(f"{options['staff']} is not a platform staff member.")
            report = tenant_offboard_schedule(tenant=tenant, grace_days=options["grace_days"], staff=staff)
        except AurumError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(
            f"{tenant.schema_name}: suspended, export {report.export_id} queued, deletion after "
            f"{report.delete_after:%Y-%m-%d %H:%M} UTC"
        )
