"""``manage.py ingest_eod PATH... [--from D] [--to D]``: ingest EOD workbooks (files or folders), in order."""

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.asof import asof_from_file_name
from apps.ingestion.services import (
    IngestTooLargeError,
    ingest_run_create,
    ingest_run_execute,
    ingest_size_check,
)


def _workbooks(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.xlsx")))
        elif path.exists():
            found.append(path)
        else:
            raise CommandError(f"No such file or folder: {raw}")
    return found


class Command(BaseCommand):
    help = "Ingest vendor EOD workbooks into the lakehouse (the same pipeline as uploads), with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="workbooks or folders of workbooks")
        parser.add_argument(
            "--from", dest="date_from", type=date.fromisoformat, help="first as-of (file name)"
        )
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat, help="last as-of (file name)")
        parser.add_argument(
            "--as-of", type=date.fromisoformat, help="override the as-of of a single workbook"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files = [
            f
            for f in _workbooks(options["paths"])
            if _in_range(asof_from_file_name(f.name), options["date_from"], options["date_to"])
        ]
        if not files:
            raise CommandError("No workbooks match.")
        if options["as_of"] and len(files) > 1:
            raise CommandError("--as-of applies to a single workbook.")
        totals = {"ok": 0, "skipped": 0, "failed": 0, "rows": 0}
        started = time.perf_counter()
        for index, path in enumerate(files, start=1):
            t0 = time.perf_counter()
            source = IngestRun.Source.COMMAND
            try:
                ingest_size_check(file_name=path.name, size_bytes=path.stat().st_size, source=source)
                created = ingest_run_create(
                    data=path.read_bytes(), file_name=path.name, source=source, as_of=options["as_of"]
                )
            except IngestTooLargeError as exc:
                totals["failed"] += 1
                self._line(index, len(files), path.name, f"rejected: {exc}", t0)
                continue
            if not created.created:
                totals["skipped"] += 1
                self._line(index, len(files), path.name, f"already ingested (run {created.run.pk})", t0)
                continue
            run = ingest_run_execute(run_id=created.run.pk)
            if run.status == IngestRun.Status.FAILED:
                totals["failed"] += 1
                self._line(index, len(files), path.name, f"FAILED [{run.error_code}] {run.error_message}", t0)
            elif run.status == IngestRun.Status.SUPERSEDED:
                totals["skipped"] += 1
                note = f"superseded by run {run.superseded_by_id}, a later workbook for {run.asof_date}"
                self._line(index, len(files), path.name, note, t0)
            else:
                totals["ok"] += 1
                totals["rows"] += run.rows_published
                note = f", {run.rows_quarantined} quarantined" if run.rows_quarantined else ""
                self._line(
                    index,
                    len(files),
                    path.name,
                    f"{run.asof_date} {run.rows_published:,} rows{note} (run {run.pk})",
                    t0,
                )
        self.stdout.write(
            f"{totals['ok']} ingested, {totals['skipped']} already there, {totals['failed']} failed; "
            f"{totals['rows']:,} rows in {time.perf_counter() - started:.1f} s"
        )
        if totals["failed"]:
            sys.exit(1)

    def _line(self, index: int, total: int, name: str, message: str, started: float) -> None:
        width = 24
        done = int(width * index / total)
        bar = "#" * done + "." * (width - done)
        self.stdout.write(
            f"[{bar}] {index:>4}/{total} {name}: {message} ({time.perf_counter() - started:.1f} s)"
        )


def _in_range(asof: date | None, start: date | None, end: date | None) -> bool:
    if asof is None:
        return start is None and end is None
    return (start is None or asof >= start) and (end is None or asof <= end)
