"""``manage.py quarantine_register [--since D]``: make the quarantined rows of runs published before the
review existed reviewable through ``/api/v2/ingest/quarantine`` (decision 0041). Safe to run again."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.ingestion.models import IngestRun
from apps.ingestion.quarantine_review import curve_quarantine_register_earlier


class Command(BaseCommand):
    help = "Register for review the quarantined rows of earlier runs that still own their day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, help="only runs of as-of dates from this day")

    def handle(self, *args: Any, since: date | None = None, **options: Any) -> None:
        runs = IngestRun.objects.filter(
            status__in=IngestRun.PUBLISHED, rows_quarantined__gt=0, quarantine_rows__isnull=True
        )
        if since is not None:
            runs = runs.filter(asof_date__gte=since)
        total = 0
        for run in runs.order_by("id"):
            registered = curve_quarantine_register_earlier(run=run)
            total += registered
            self.stdout.write(f"run {run.pk} ({run.dataset} {run.asof_date}): {registered} rows")
        self.stdout.write(f"{total} rows registered for review")
