"""``manage.py backfill``: the command door to the backfills (decision 0036), e.g.

    manage.py backfill feed:fred:DGS10 --from 2024-01-01 --to 2024-06-30 --dry-run
    manage.py backfill vendor:EUGP --folder /work/shared/fixtures/eod          # every day of the folder
    manage.py backfill --retry 12      manage.py backfill --cancel 12      manage.py backfill --show 12

Windows run on the backfill queue's workers; ``--inline`` runs them in this process instead (no worker).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.datasets.models import Backfill
from apps.datasets.registry import CONTRACTS, contract_get
from apps.datasets.selectors import operator_schema
from apps.datasets.services.backfills import (
    backfill_cancel,
    backfill_create,
    backfill_plan,
    backfill_retry,
    backfill_window_run,
)
from aurum.errors import AurumError

_DAY = re.compile(r"_(\d{8})(?:_\d{4})?\.xlsx$", re.IGNORECASE)


class Command(BaseCommand):
    help = "Backfill a dataset over a date range (or an EOD workbook folder); retry, cancel or show one."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dataset", nargs="?", help=", ".join(sorted(CONTRACTS)))
        parser.add_argument("--from", dest="first", type=date.fromisoformat, help="first day of data")
        parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day of data, inclusive")
        parser.add_argument(
            "--folder", type=Path, help="EOD workbooks: the folder to read (default: setting)"
        )
        parser.add_argument("--dry-run", action="store_true", help="list the windows, run nothing")
        parser.add_argument("--inline", action="store_true", help="run the windows here, not on workers")
        parser.add_argument("--operator", help="the operator tenant's schema the audit entry goes to")
        parser.add_argument("--retry", type=int, metavar="ID", help="queue a backfill's failed windows again")
        parser.add_argument(
            "--cancel", type=int, metavar="ID", help="cancel a backfill's windows not started"
        )
        parser.add_argument("--show", type=int, metavar="ID", help="print a backfill's windows")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(**options)
        except AurumError as exc:
            raise CommandError(str(exc)) from exc

    def _handle(self, **options: Any) -> None:
        for action in ("retry", "cancel", "show"):
            if options[action] is not None:
                backfill = Backfill.objects.filter(pk=options[action]).first()
                if backfill is None:
                    raise CommandError(f"No backfill {options[action]}.")
                if action == "retry":
                    backfill = backfill_retry(
                        backfill=backfill, tenant_schema=operator_schema(schema_name=options["operator"])
                    )
                    self._run_inline(backfill, options["inline"])
                elif action == "cancel":
                    backfill = backfill_cancel(
                        backfill=backfill, tenant_schema=operator_schema(schema_name=options["operator"])
                    )
                self._show(backfill)
                return
        if not options["dataset"]:
            raise CommandError("Name a dataset (or --retry / --cancel / --show ID).")
        contract = contract_get(dataset_id=options["dataset"])
        folder: Path | None = options["folder"]
        first, last = options["first"], options["last"]
        if folder is not None and (first is None or last is None):
            days = sorted(
                datetime.strptime(m.group(1), "%Y%m%d").date()
                for p in folder.glob("*.xlsx")
                if (m := _DAY.search(p.name)) is not None
            )
            if not days:
                raise CommandError(f"No EOD workbook in {folder}.")
            first, last = first or days[0], last or days[-1]
        if first is None or last is None:
            raise CommandError("--from and --to are required (or --folder, whose files give the days).")
        if options["dry_run"]:
            windows = backfill_plan(contract=contract, first_day=first, last_day=last, source_dir=folder)
            for w in windows:
                self.stdout.write(
                    f"{w.start:%Y-%m-%d %H:%M} .. {w.end:%Y-%m-%d %H:%M} {w.source_file}".rstrip()
                )
            self.stdout.write(f"{len(windows)} windows")
            return
        backfill = backfill_create(
            dataset_id=contract.id,
            first_day=first,
            last_day=last,
            requested_by=None,
            tenant_schema=operator_schema(schema_name=options["operator"]),
            source_dir=folder,
        )
        self._run_inline(backfill, options["inline"])
        self._show(backfill)

    def _run_inline(self, backfill: Backfill, inline: bool) -> None:
        if not inline:
            return
        for window_id in backfill.windows.filter(status="queued").values_list("pk", flat=True):
            backfill_window_run(window_id=window_id)

    def _show(self, backfill: Backfill) -> None:
        backfill.refresh_from_db()
        self.stdout.write(
            f"backfill {backfill.pk} {backfill.dataset} {backfill.first_day}..{backfill.last_day}: "
            f"{backfill.status}"
        )
        for w in backfill.windows.all():
            line = f"  {w.window_start:%Y-%m-%d} {w.status} {w.error_code} {Path(w.source_file).name}"
            self.stdout.write(line.rstrip())
