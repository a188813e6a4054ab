"""An API request's admission: the plan's rate limit and its monthly API-request quota, checked and counted in
one Redis round trip (a DRF throttle; decision 0057)."""

from __future__ import annotations

import math
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.usage.quotas import usage_credential
from apps.usage.services import usage_admit
from aurum.api.context import request_context_or_none
from aurum.api.throttling import QUOTA_HEADERS_ATTRIBUTE, RATE_ATTRIBUTE, RateState, plan_bucket


class PlanAdmissionThrottle(BaseThrottle):
    """The tenant's plan decides: ``burst`` requests at once, ``requests_per_second`` sustained (a route the
    plan has its own limit for takes from that route's bucket instead; a refusal is a 429 with
    ``Retry-After``), then the request counts against the plan's monthly ``api_requests`` quota (beyond it a
    429 problem with ``quota``). A request the rate limit refused is not counted. Sets the request's
    ``X-RateLimit-*`` and ``X-Quota-*`` headers."""

    def allow_request(self, request: Request, view: Any) -> bool:
        context = request_context_or_none(request)
        if context is None:
            return True  # unauthenticated requests are refused by authentication, not here
        match = request.resolver_match
        bucket = plan_bucket(
            tenant=context.tenant, url_name=match.url_name if match is not None else None, path=request.path
        )
        admission = usage_admit(tenant=context.tenant, credential=usage_credential(context), bucket=bucket)
        self.state = admission.rate
        setattr(request._request, RATE_ATTRIBUTE, admission.rate)
        if admission.rate is not None and admission.rate.retry_after is not None:
            return False
        if admission.quota is not None:
            setattr(request._request, QUOTA_HEADERS_ATTRIBUTE, admission.quota.headers())
        if admission.refusal is not None:
            raise admission.refusal
        return True

    def wait(self) -> float | None:
        state: RateState | None = getattr(self, "state", None)
        return math.ceil(state.retry_after) if state and state.retry_after is not None else None
