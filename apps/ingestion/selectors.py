from django.db.models import QuerySet

from apps.ingestion.models import IngestRun
from aurum.errors import NotFoundError
from tenants.models import Tenant
from tenants.selectors import tenant_datasets


def ingest_run_list(*, tenant: Tenant) -> QuerySet[IngestRun]:
    """Runs the tenant may see: all for the platform's operators, else those of its licensed datasets."""
    runs = IngestRun.objects.all()
    if not tenant.is_operator:
        runs = runs.filter(dataset__in=tenant_datasets(tenant=tenant))
    return runs.order_by("-created", "-id")


def ingest_run_get(*, tenant: Tenant, run_id: int) -> IngestRun:
    """One run the tenant may see; NotFoundError otherwise, without saying whether it exists."""
    run = ingest_run_list(tenant=tenant).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError("No such ingest run.")
    return run
