"""What the feed views share: the permission they need, whole lists and CSV bodies."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response

from aurum.api.conditional import cached_response
from aurum.api.context import request_context
from aurum.api.envelope import envelope
from aurum.api.responses import csv_bytes_response, elapsed_ms
from aurum.api.views import PermissionByMethodView
from tenants.selectors import tenant_datasets

READ = "curves:read"  # market data: the permission every curve read needs


def licensed_datasets(request: Request) -> frozenset[str]:
    """The dataset codes the request's tenant may read (its plan's and entitlements': one query)."""
    return tenant_datasets(tenant=request_context(request).tenant)


class FeedView(PermissionByMethodView):
    needs = {"GET": READ}


def whole(request: Request, data: list[Any], *, ttl: int) -> Response:
    """A list the contract does not page (``limit`` only): ``meta.count``."""
    return cached_response(
        request, envelope(data, query_time_ms=elapsed_ms(request), count=len(data)), ttl=ttl
    )


def as_csv(request: Request, rows: list[dict[str, Any]], *, filename: str, ttl: int) -> HttpResponseBase:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(
            buffer, fieldnames=[k for k in rows[0] if k != "metadata"], extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    return csv_bytes_response(request, data=buffer.getvalue().encode(), filename=filename, ttl=ttl)
