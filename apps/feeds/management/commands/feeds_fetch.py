from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.feeds.adapters.base import Window
from apps.feeds.datasets import DATASETS
from apps.feeds.services import feed_fetch


class Command(BaseCommand):
    help = "Fetch one window of one feed dataset from its provider (needs its API key and the network)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("provider", help=", ".join(sorted({p for p, _ in DATASETS})))
        parser.add_argument("dataset", help="e.g. DGS10, natural-gas/pri/fut, PRC_LMP:DAM")
        parser.add_argument("--start", type=date.fromisoformat, required=True, help="first day (UTC)")
        parser.add_argument("--end", type=date.fromisoformat, required=True, help="last day (UTC), inclusive")

    def handle(self, *args: Any, provider: str, dataset: str, start: date, end: date, **options: Any) -> None:
        if end < start:
            raise CommandError("--end is before --start")
        window = Window(
            datetime.combine(start, time.min, tzinfo=UTC),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        )
        run = feed_fetch(provider=provider.upper(), dataset=dataset, window=window)
        if run is None:
            raise CommandError("That window is being fetched by another worker.")
        self.stdout.write(f"run {run.pk}: {run.status} {run.rows} rows {run.error_code} {run.error}".rstrip())
        if run.status != "succeeded":
            raise CommandError(f"The fetch failed: {run.error_code}")
