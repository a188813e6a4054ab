"""A curve for watchlist tests against the shared lakehouse (the real worker reads it): an EUGP workbook of
one curve on days nobody else uses, whose second day moves every tenor by a known factor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from tests.support.workbooks import MONTHS, eugp_workbook

DAY_A, DAY_B = date(2031, 1, 6), date(2031, 1, 7)


def watched_workbook(asof: date, scale: float) -> bytes:
    """EU Dutch TTF (known to the units map: nothing quarantined), mids (30 + tenor/10) x ``scale``."""
    mids = [[round((30.0 + tenor / 10) * scale, 4)] for tenor in range(len(MONTHS))]
    return eugp_workbook(locations=("EU",), products=("Dutch_TTF",), blocks=("NA",), mids=mids, asof=asof)


@contextmanager
def watched_curve() -> Iterator[tuple[str, list[int]]]:
    """Publish ``DAY_A`` in this process; yield (curve_key, run ids: append later runs); on exit remove the
    runs, follows and notices of the curve and restore the catalog rows it changed."""
    from django_tenants.utils import schema_context

    from apps.curves.models import Curve
    from apps.ingestion.models import IngestRun
    from apps.ingestion.services import ingest_run_create, ingest_run_execute
    from apps.watchlists.models import Follow, Notice

    saved = list(Curve.objects.filter(dataset="vendor:EUGP", product__icontains="TTF"))
    created = ingest_run_create(
        data=watched_workbook(DAY_A, 1.0), file_name=f"EOD_EUGP_{DAY_A:%Y%m%d}_1430.xlsx", source="command"
    )
    run = ingest_run_execute(run_id=created.run.pk)
    run_ids = [run.pk]
    curve_key = ""
    try:
        assert run.status == "succeeded", (run.error_code, run.error_message)
        curve_key = Curve.objects.get(dataset="vendor:EUGP", last_asof=DAY_A).curve_key
        yield curve_key, run_ids
    finally:
        for schema in ("acme", "globex"):
            with schema_context(schema):
                Notice.objects.filter(curve_key=curve_key).delete()
                Follow.objects.filter(curve_key=curve_key).delete()
        IngestRun.objects.filter(pk__in=run_ids).delete()
        Curve.objects.filter(pk__in=[curve.pk for curve in saved]).delete()
        Curve.objects.filter(curve_key=curve_key).delete()
        Curve.objects.bulk_create(saved)
