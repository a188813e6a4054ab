"""An ingest rehearsed at a worker's start-up (aurum/warmup.py, issue 14): the first ingest after a start paid
the first use of the workbook reader, Arrow's compute kernels and thread pool, the Parquet writer and the
lakehouse's Arrow reader (first day 1.39 s against 0.72–0.82 s for the next ones; validate 229 against
30–48 ms), and these are per process, not per workbook.

The rehearsal runs every stage of ``ingest_run_execute`` that writes nothing on a small generated EUGP and
RP workbook (the layouts the parsers read from real files): parse, enrich (the reference units, platform
data), validate (quarantine rules, derived strips), the published and quarantined rows, the latest-rows
ranking and the catalog's grouping; the Parquet files are written to a temporary local folder, removed at
once; the lakehouse is only read. No tenant's data is read or kept, no run is recorded, and nothing reaches
the warehouse, the catalog or the database.
"""

from __future__ import annotations

from datetime import date

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


def ingest_rehearse() -> str:
    """Run the writing-free stages of an ingest on a generated EUGP and RP workbook; a summary line."""
    units = units_lookup()
    tables = curve_observation_table(), curve_quarantine_table(), curve_latest_table()
    written = rows = 0
    for vendor, workbook in (
        ("EUGP", eugp_demo_workbook(SAMPLE_ASOF, 0, months=24)),
        ("RP", rp_demo_workbook(SAMPLE_ASOF, 0, months=24)),
    ):
        parsed = parse_workbook(
            workbook,
            filename=f"EOD_{vendor}_{SAMPLE_ASOF:%Y%m%d}_1430.xlsx",
            max_bytes=settings.AURUM_INGEST_MAX_BYTES,
        )
        clean, quarantined = quarantine_split(enrich(parsed.rows, units))
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
        rows += published.num_rows
    # The lakehouse's Arrow reader (a latest merge reads the dataset's rows): one row of one file.
    tables[2].scan(limit=1).to_arrow()
    return f"2 workbooks, {rows} rows, {written} Parquet files rehearsed"
