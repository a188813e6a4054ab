"""The portal's home page ``/``."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.selectors import api_token_list, token_reach
from apps.portal.access import portal_view
from aurum.api.context import RequestContext


@require_safe
@portal_view()
def home_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    manages_tokens = token_reach(ctx.permissions) is not None
    context: dict[str, Any] = {
        "permissions": sorted(ctx.permissions),
        "manages_tokens": manages_tokens,
        "tokens": api_token_list(credential=ctx)[:20] if manages_tokens else [],
    }
    return render(request, "portal/home.html", context)
