"""`manage.py parse_workbook PATH --out OUT.csv [--quarantine-out Q.csv] [--as-of YYYY-MM-DD]`.

A thin wrapper over `apps.ingestion.parsers.pipeline.parse_workbook_to_csv`; it touches no database.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ingestion.parsers.errors import WorkbookError
from apps.ingestion.parsers.pipeline import UNITS_MAP_ENV, parse_workbook_to_csv


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


class Command(BaseCommand):
    help = "Parse a vendor EOD workbook into canonical curve rows (CSV), with quarantine and a summary."
    requires_system_checks: list[
        str
    ] = []  # no model or database checks: this command never opens a connection
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the workbook, e.g. EOD_RP_20250912_1430.xlsx")
        parser.add_argument("--out", required=True, help="CSV file for the clean rows")
        parser.add_argument(
            "--quarantine-out", help="CSV file for the quarantined rows (with quarantine_reason)"
        )
        parser.add_argument(
            "--as-of", type=_iso_date, help="as-of date, overriding the workbook and file name"
        )
        parser.add_argument("--vendor", help="vendor code (PW, EUGP, RP, SIMPLE), overriding the file name")
        parser.add_argument(
            "--units-map", help=f"units_map.csv (default: ${UNITS_MAP_ENV} or the shared fixtures)"
        )
        parser.add_argument(
            "--derived-strips", action="store_true", help="append derived CALENDAR/QUARTER rows"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = parse_workbook_to_csv(
                options["path"],
                out=options["out"],
                quarantine_out=options["quarantine_out"],
                as_of=options["as_of"],
                vendor=options["vendor"],
                units_map_path=options["units_map"],
                with_derived_strips=options["derived_strips"],
            )
        except WorkbookError as exc:
            raise CommandError(f"[{exc.code}] {exc}") from exc
        except OSError as exc:
            raise CommandError(f"[io_error] {exc}") from exc
        self.stdout.write(summary.render())
