from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.feeds.services import catalog_load


class Command(BaseCommand):
    help = "Load (or refresh) the feeds' series catalog and EIA datasets from the original's catalog files."

    def add_arguments(self, parser: Any) -> None:
        default = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "aurum-original"
        parser.add_argument("--source", type=Path, default=default, help="folder of the catalog files")

    def handle(self, *args: Any, source: Path, **options: Any) -> None:
        counts = catalog_load(source_dir=source)
        self.stdout.write(f"{counts['series']} series, {counts['eia_datasets']} EIA datasets from {source}")
