"""The demo's market data: the real fixture workbooks when ``../shared/fixtures`` exists, else generated."""

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from apps.ingestion.demo_workbooks import demo_workbooks_write

FIXTURE_EOD = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "eod"


class Command(BaseCommand):
    help = "Ingest the demo's EOD workbooks: the last N fixture days, or N generated days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=10, help="business days to load (0: every fixture day)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if FIXTURE_EOD.is_dir():
            files = sorted(FIXTURE_EOD.glob("EOD_*.xlsx"), key=lambda p: (p.name.split("_")[2], p.name))
            if days:
                dates = sorted({p.name.split("_")[2] for p in files})[-days:]
                files = [p for p in files if p.name.split("_")[2] in dates]
            self.stdout.write(f"Ingesting {len(files)} real workbooks from {FIXTURE_EOD}")
        else:
            folder = Path(settings.VAR_DIR) / "demo" / "generated-eod"
            files = demo_workbooks_write(folder, end=date.today(), days=days or 10)
            self.stdout.write(f"No fixtures here; ingesting {len(files)} generated workbooks from {folder}")
        try:
            call_command("ingest_eod", *[str(p) for p in files], stdout=self.stdout)
        except SystemExit:
            self.stderr.write("Some workbooks failed (see above); the demo serves what was ingested.")
