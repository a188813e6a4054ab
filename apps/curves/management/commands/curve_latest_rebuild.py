"""Recompute ``market.curve_latest`` from every vintage: a repair, or for a warehouse that predates it."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from pyiceberg.exceptions import NoSuchTableError

from apps.curves.models import Curve
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.latest import curve_latest_rebuild
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.tables import CURVE_LATEST, CURVE_TABLES_LOCK


class Command(BaseCommand):
    help = "Recompute the latest-per-tenor curve table (market.curve_latest) from every vintage."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dataset", action="append", help="e.g. vendor:EUGP (repeatable); default: all")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when the table already exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_missing"]:
            try:
                get_catalog().load_table(CURVE_LATEST)
                self.stdout.write("market.curve_latest exists; nothing to do.")
                return
            except NoSuchTableError:
                pass
        datasets = options["dataset"] or sorted(set(Curve.objects.values_list("dataset", flat=True)))
        for dataset in datasets:
            with transaction.atomic():
                advisory_xact_lock(CURVE_TABLES_LOCK)
                rows = curve_latest_rebuild(dataset)
            self.stdout.write(f"{dataset}: {rows} latest rows")
