"""Backup and restore drill on the demo's data: ``make bench BENCH=bench/restore_drill.py`` (AURUM_DRILL_DAYS,
default 10). Prints each step's seconds (restore_platform is the recovery time) and the backup's size.
Results: docs/operations.md "Backup and restore"."""

import os
import sys

from aurum.devstack.drill import main

if __name__ == "__main__":
    sys.argv[1:] = [os.environ.get("AURUM_DRILL_DAYS", "10")]
    sys.exit(main())
