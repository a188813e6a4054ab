"""The API-request quota, checked and counted on every API request (a DRF throttle after the rate limit)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.usage.models import Metric
from apps.usage.quotas import usage_credential
from apps.usage.services import usage_take
from aurum.api.context import request_context_or_none
from aurum.api.throttling import QUOTA_HEADERS_ATTRIBUTE, RATE_ATTRIBUTE


class PlanQuotaThrottle(BaseThrottle):
    """Counts the request against the plan's monthly ``api_requests`` quota; beyond it a 429 problem with
    ``quota``. A request the rate limit refused is not counted. Sets the ``X-Quota-*`` headers."""

    def allow_request(self, request: Request, view: Any) -> bool:
        context = request_context_or_none(request)
        if context is None:
            return True
        rate = getattr(request._request, RATE_ATTRIBUTE, None)
        if rate is not None and rate.retry_after is not None:
            return True  # refused by the rate limit (DRF asks every throttle): not served, not counted
        state = usage_take(
            tenant=context.tenant, credential=usage_credential(context), metric=Metric.API_REQUESTS
        )
        if state is not None:
            setattr(request._request, QUOTA_HEADERS_ATTRIBUTE, state.headers())
        return True
