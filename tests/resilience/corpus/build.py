"""Write the corpus's workbooks into a folder, for a manual check or another tool:
``python -m tests.resilience.corpus.build DIR`` (run from the checkout; reads ``../shared/fixtures``)."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from tests.resilience.corpus.workbooks import FAILED_BY_THE_RUN, HARMLESS, REFUSED_AT_UPLOAD

DAY = date(2019, 1, 2)


def build(folder: Path) -> list[Path]:
    """One file per case, named after the case (and carrying its upload name)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for group, cases in (
        ("refused", REFUSED_AT_UPLOAD),
        ("failed", FAILED_BY_THE_RUN),
        ("harmless", HARMLESS),
    ):
        for name, case in cases.items():
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            path = folder / f"{group}--{slug}--{case.file_name.format(day=DAY)}"
            path.write_bytes(case.make(DAY))
            written.append(path)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1] if len(sys.argv) > 1 else "var/corpus")):
        print(f"{path.stat().st_size:>9,}  {path}")
