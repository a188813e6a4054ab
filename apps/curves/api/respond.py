"""Curve pages computed once as bytes: a page is computed (or fetched from the read cache) as serialised
JSON/CSV, and each request only wraps it with its own ``meta`` (request id, timing, freshly signed cursors)
through ``aurum.api.responses`` (``json_bytes_response`` and the paged forms). The ETag covers the page
content, never ``meta``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.http import HttpRequest
from rest_framework.request import Request

from apps.curves.api.params import Licence
from apps.usage.models import Metric
from apps.usage.quotas import usage_credential
from apps.usage.services import usage_take
from aurum.api.arrow import arrow_csv, arrow_json
from aurum.api.context import request_context
from aurum.api.read_cache import read_through
from aurum.lakehouse.engines import QueryResult

CURVES_TTL = 120  # seconds (spec 3.1: curves, diff, strips)
METADATA_TTL = 300


@dataclass(frozen=True)
class Page:
    """One computed page: the serialised rows, how many, and whether more follow."""

    body: bytes
    count: int
    has_more: bool


def page_of(result: QueryResult, columns: Sequence[str], limit: int, fmt: str = "json") -> Page:
    """``result`` was fetched with ``limit + 1`` rows: the extra row only tells that more follow."""
    table: pa.Table = result.table
    has_more = table.num_rows > limit
    rows = table.slice(0, limit)
    body = arrow_csv(rows, columns) if fmt == "csv" else arrow_json(rows, columns)
    return Page(body=body, count=rows.num_rows, has_more=has_more)


def cached_page(
    *,
    request: Request | HttpRequest,
    scope: str,
    licence: Licence,
    params: dict[str, Any],
    compute: Callable[[], Page],
    ttl: int = CURVES_TTL,
    versioned: frozenset[str] | None = None,
) -> Page:
    page, _ = read_through(
        scope=scope,
        tenant_id=licence.tenant.pk,
        datasets=licence.datasets,
        params=params,
        compute=compute,
        ttl=ttl,
        versioned=versioned,
    )
    # The page's rows count against the plan's rows_served quota. Refused (429) once the quota is reached; a
    # page that starts under it is served whole (decision 0026).
    usage_take(
        tenant=licence.tenant,
        credential=usage_credential(request_context(request)),
        metric=Metric.ROWS_SERVED,
        amount=page.count,
        mode="soft",
    )
    return page
