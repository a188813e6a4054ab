"""The demo's market data: the real fixture workbooks when ``../shared/fixtures`` exists, else generated."""

from datetime import date
from pathlib import Path
from typing import TextIO

from django.core.management import call_command

from aurum.devstack.demo.workbooks import demo_workbooks_write


def demo_ingest(*, days: int, fixtures_dir: Path, generated_dir: Path, stdout: TextIO) -> list[Path]:
    """Ingest the last ``days`` fixture days (0: all) from ``fixtures_dir``; without it, ``days`` generated
    business days (10 for 0) written to ``generated_dir``. Returns the workbooks offered to ingestion."""
    if fixtures_dir.is_dir():
        files = sorted(fixtures_dir.glob("EOD_*.xlsx"), key=lambda p: (p.name.split("_")[2], p.name))
        if days:
            dates = sorted({p.name.split("_")[2] for p in files})[-days:]
            files = [p for p in files if p.name.split("_")[2] in dates]
        stdout.write(f"Ingesting {len(files)} real workbooks from {fixtures_dir}\n")
    else:
        files = demo_workbooks_write(generated_dir, end=date.today(), days=days or 10)
        stdout.write(f"No fixtures here; ingesting {len(files)} generated workbooks from {generated_dir}\n")
    try:
        call_command("ingest_eod", *[str(p) for p in files], stdout=stdout)
    except SystemExit:
        stdout.write("Some workbooks failed (see above); the demo serves what was ingested.\n")
    return files
