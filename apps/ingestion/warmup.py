"""An ingest rehearsed at a worker's start-up (aurum/warmup.py, issue 14): the first ingest after a start paid
the first use of the workbook reader, Arrow's compute kernels and thread pool, the Parquet writer and the
lakehouse's Arrow reader (first day 1.39 s against 0.72–0.82 s for the next ones; validate 229 against
30–48 ms), and these are per process, not per workbook.

The rehearsal runs every stage of ``ingest_run_execute`` that writes nothing on a small generated EUGP and
RP workbook (the layouts the parsers read from real files), the RP one's parsed rows repeated to a real RP
day's size (the first use of the Arrow stages at that size cost more than the first use as such, decision
0056): parse, enrich (the reference units, platform data), validate (quarantine rules, derived strips), the
published and quarantined rows, the latest-rows ranking and the catalog's grouping; the Parquet files are
written to a temporary local folder, removed at once; the lakehouse is only read. No tenant's data is read or
kept, no run is recorded, and nothing reaches the warehouse, the catalog or the database.
"""

from __future__ import annotations

from datetime import date
from math import ceil

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from apps.curves.services import curve_catalog_summary
from apps.ingestion.contracts import eod_contract_enforce
from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import parse_workbook
from apps.ingestion.publishing import published_rows, quarantined_rows
from apps.ingestion.services import dataset_for
from apps.reference.selectors import units_lookup
from aurum.devstack.demo.workbooks import eugp_demo_workbook, rp_demo_workbook
from aurum.lakehouse.latest import curve_latest_rank
from aurum.lakehouse.partitions import data_files_rehearse
from aurum.lakehouse.tables import curve_latest_table, curve_observation_table, curve_quarantine_table

# A fixed as-of for the sample: the rehearsal's output is thrown away, so its date does not matter.
SAMPLE_ASOF = date(2025, 9, 2)
# The rows the RP sample is scaled to after its parse: a real RP day's (28,044 parsed, 35,136 published), the
# largest workbook. On the 24-month samples alone (~300 rows) a first real ingest still paid its Arrow stages'
# first use at full size: group-bys 2-4x, joins and the Parquet writer ~2x their later cost (decision 0056).
# The EUGP sample stays small: the same stages, and a process that has handled the larger size handles the
# smaller EUGP day (11,483 parsed rows) at its steady cost too.
RP_REHEARSAL_ROWS = 28_000


def rows_scaled(rows: pa.Table, target: int) -> pa.Table:
    """``rows`` repeated until there are at least ``target``, each copy's curves renamed (``<key>~<copy>``) so
    the copies are distinct curves, as a real workbook's are, not duplicates to collapse."""
    copies = max(1, ceil(target / max(rows.num_rows, 1)))
    position = rows.schema.get_field_index("curve_key")
    return pa.concat_tables(
        rows.set_column(
            position, "curve_key", pc.binary_join_element_wise(rows.column("curve_key"), f"~{copy}", "")
        )
        for copy in range(copies)
    ).combine_chunks()  # one chunk per column, as a parsed workbook's (a take over 100 chunks costs 5x more)


def ingest_rehearse() -> str:
    """Run the writing-free stages of an ingest on a generated EUGP and RP workbook (the RP one's rows
    scaled to a real RP day's after the parse); a summary line."""
    units = units_lookup()
    tables = curve_observation_table(), curve_quarantine_table(), curve_latest_table()
    written, published_per_vendor = 0, {}  # vendor -> rows the stages published
    for vendor, workbook, size in (
        ("EUGP", eugp_demo_workbook(SAMPLE_ASOF, 0, months=24), 0),
        ("RP", rp_demo_workbook(SAMPLE_ASOF, 0, months=24), RP_REHEARSAL_ROWS),
    ):
        parsed = parse_workbook(
            workbook,
            filename=f"EOD_{vendor}_{SAMPLE_ASOF:%Y%m%d}_1430.xlsx",
            max_bytes=settings.AURUM_INGEST_MAX_BYTES,
        )
        clean, quarantined = quarantine_split(enrich(rows_scaled(parsed.rows, size), units))
        strips = derived_strips(clean)
        run = IngestRun(
            pk=0, vendor=vendor, dataset=dataset_for(vendor), asof_date=SAMPLE_ASOF
        )  # never saved
        published = published_rows(clean, strips, run)
        eod_contract_enforce(dataset=run.dataset, published=published)
        held = quarantined_rows(quarantined, run)
        written += data_files_rehearse(tables[0], published) + data_files_rehearse(tables[1], held)
        written += data_files_rehearse(tables[2], curve_latest_rank(published, run.dataset))
        curve_catalog_summary(published)
        published_per_vendor[vendor] = published.num_rows
    # The lakehouse's Arrow reader (a latest merge reads the dataset's rows): one row of one file.
    tables[2].scan(limit=1).to_arrow()
    rows = ", ".join(f"{vendor} {count:,}" for vendor, count in published_per_vendor.items())
    return f"2 workbooks, rows published {rows}, {written} Parquet files rehearsed"
