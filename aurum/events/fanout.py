"""Events about shared market data go to every tenant licensed for the dataset (and the operators)."""

from typing import Any

from django.db.models import Q

from aurum.events.publish import event_publish_on_commit
from tenants.models import Tenant


def dataset_event_publish_on_commit(*, dataset: str, event_type: str, payload: dict[str, Any]) -> None:
    tenants = Tenant.objects.filter(
        Q(plan__datasets__contains=[dataset]) | Q(entitlements__dataset=dataset) | Q(is_operator=True)
    ).distinct()
    for schema_name in tenants.values_list("schema_name", flat=True):
        event_publish_on_commit(schema_name=schema_name, event_type=event_type, payload=payload)
