"""A private lakehouse for curve-read tests: its own Iceberg catalog name and warehouse folder, loaded with
real fixture workbooks through the real ingestion pipeline.

The shared test lakehouse is not rolled back between tests, and other tests ingest the same curves on other
days, so "latest" there depends on test order. Here every read test knows exactly which vintages exist.
Catalog rows and ingest runs are committed (readers in other threads and processes must see them) and
removed again on exit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.test import override_settings

from tests.support.paths import EOD_DIR

EUGP_DAYS = (date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3))
RP_DAYS = (date(2025, 7, 1), date(2025, 7, 2))


def eod(vendor: str, day: date) -> Path:
    return EOD_DIR / f"EOD_{vendor}_{day:%Y%m%d}_1430.xlsx"


@dataclass
class Lake:
    catalog: str
    warehouse: Path
    run_ids: list[int] = field(default_factory=list)

    def ingest(
        self,
        path: Path,
        *,
        data: bytes | None = None,
        as_of: date | None = None,
        file_name: str | None = None,
    ) -> int:
        """Publish ``path`` (or ``data`` under its name); ``file_name`` stands for a re-publication (its
        ``_HHMM`` orders it against the other workbooks of the day, decision 0013)."""
        from apps.ingestion.services import ingest_run_create, ingest_run_execute

        created = ingest_run_create(
            data=data if data is not None else path.read_bytes(),
            file_name=file_name or path.name,
            source="command",
            as_of=as_of,
        )
        run = ingest_run_execute(run_id=created.run.pk)
        assert run.status.startswith("succeeded"), (run.error_code, run.error_message)
        self.run_ids.append(run.pk)
        return run.pk


@contextmanager
def private_lake(
    tmp: Path,
    files: Sequence[Path],
    *,
    warehouse: str | None = None,
    catalog: str | None = None,
    **settings: str,
) -> Iterator[Lake]:
    """``warehouse``: an ``s3://`` URI instead of a folder under ``tmp`` (AURUM_S3_* in ``settings``);
    ``catalog``: the Iceberg catalog name (default: a fresh one), e.g. the one a Trino cluster reads."""
    from apps.curves.models import Curve
    from apps.ingestion.models import IngestRun
    from aurum.lakehouse.catalog import catalog_dispose

    name = catalog or f"test_{uuid.uuid4().hex[:10]}"
    warehouse_uri, folder = warehouse, tmp / name
    folder.mkdir(parents=True, exist_ok=True)  # a named catalog may reuse its folder (a live Trino run)
    lake = Lake(catalog=name, warehouse=folder)
    saved = list(Curve.objects.all())  # an enclosing lake's catalog, restored on exit
    uri = f"{warehouse_uri.rstrip('/')}/{name}" if warehouse_uri else folder.as_uri()
    with override_settings(AURUM_ICEBERG_CATALOG=name, AURUM_WAREHOUSE=uri, **settings):
        try:
            for path in files:
                lake.ingest(path)
            yield lake
        finally:
            IngestRun.objects.filter(pk__in=lake.run_ids).delete()
            Curve.objects.all().delete()
            Curve.objects.bulk_create(saved)
            catalog_dispose()
