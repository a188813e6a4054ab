from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.reference.catalogs import CatalogFileError
from apps.reference.services import reference_load, units_map_default_ensure

# The shared fixture folder beside the checkout (see ../shared/fixtures/README.md).
DEFAULT_SOURCE = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "aurum-original"


class Command(BaseCommand):
    help = (
        "Load or update the reference catalogs (units, calendars, ISOs, markets, nodes, blocks, products) "
        "from a fixture folder."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            type=Path,
            default=None,
            help=f"folder with units_map.csv, calendars.json, ... (default: {DEFAULT_SOURCE} when it exists)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path | None = options["source"]
        if source is None:
            if not DEFAULT_SOURCE.is_dir():
                created = units_map_default_ensure()
                self.stdout.write(
                    self.style.WARNING(
                        f"No reference fixtures at {DEFAULT_SOURCE}: only the default unit mappings are "
                        f"ensured ({created} created). Pass --source to load the full catalogs."
                    )
                )
                return
            source = DEFAULT_SOURCE
        try:
            counts = reference_load(source_dir=source)
        except CatalogFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Reference data loaded from {source}"))
        for catalog, count in counts.items():
            self.stdout.write(f"  {catalog:<18} {count:>5}")
