"""The event types an endpoint may subscribe to, and the API resource each event's ``data`` links to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

INGESTION_COMPLETED = "ingestion.completed"
INGESTION_FAILED = "ingestion.failed"
CURVE_PUBLISHED = "curve.published"
RUN_SUCCEEDED = "scenario.run.succeeded"
RUN_FAILED = "scenario.run.failed"
RUN_CANCELLED = "scenario.run.cancelled"
VALUATION_COMPLETED = "ppa.valuation.completed"
ENDPOINT_DISABLED = "webhook.endpoint.disabled"
# 80 % or 100 % of a monthly quota reached (apps/usage, decision 0026).
QUOTA_THRESHOLD = "quota.threshold"
# A dataset's publication past its freshness SLA without its vintage, and its vintage landing after that
# (apps/datasets, decision 0035).
DATASET_LATE = "dataset.late"
DATASET_RECOVERED = "dataset.recovered"
# Sent on request to one endpoint (POST …/ping); never subscribed to.
PING = "webhook.ping"

EVENT_TYPES: tuple[str, ...] = (
    INGESTION_COMPLETED,
    INGESTION_FAILED,
    CURVE_PUBLISHED,
    RUN_SUCCEEDED,
    RUN_FAILED,
    RUN_CANCELLED,
    VALUATION_COMPLETED,
    ENDPOINT_DISABLED,
    QUOTA_THRESHOLD,
    DATASET_LATE,
    DATASET_RECOVERED,
)


def resource_url(event_type: str, data: dict[str, Any]) -> str | None:
    """The v2 path of the resource the event is about (None when the payload does not name one)."""
    if event_type.startswith("ingestion.") and data.get("run_id") is not None:
        return f"/api/v2/ingest/runs/{data['run_id']}"
    if event_type == CURVE_PUBLISHED and data.get("dataset"):
        query = {"dataset": data["dataset"], **({"asof": data["asof_date"]} if data.get("asof_date") else {})}
        return f"/api/v2/curves?{urlencode(query)}"
    if event_type.startswith("scenario.run.") and data.get("run_id"):
        return f"/api/v2/scenario-runs/{data['run_id']}"
    if event_type == VALUATION_COMPLETED and data.get("contract_id") and data.get("valuation_id"):
        return f"/api/v2/ppa/contracts/{data['contract_id']}/valuations/{data['valuation_id']}"
    if event_type.startswith("dataset.") and data.get("dataset"):
        return f"/api/v2/datasets/{data['dataset']}"
    if event_type == QUOTA_THRESHOLD:
        return "/api/v2/usage"
    if event_type.startswith("webhook.") and data.get("endpoint_id"):
        return f"/api/v2/webhooks/{data['endpoint_id']}"
    return None
