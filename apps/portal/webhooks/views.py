"""The portal's ``/settings/webhooks/``: the tenant's webhook endpoints with their last delivery, a form to
add one, and per endpoint its settings, secret rotation, ping, enable, delete and recent delivery attempts
with redelivery. Needs ``webhooks:manage`` (admins); another tenant's endpoint is 404.

Every write is a POST form calling the service the API calls (``apps.webhooks.services``). A signing secret
is in the answer to the create and rotate forms only (``Cache-Control: no-store``), never on a later page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.roles import WEBHOOKS_MANAGE
from apps.portal.access import form_add_issues, portal_view
from apps.portal.webhooks.forms import ISSUE_FIELDS, EndpointForm
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list_with_last_delivery,
)
from apps.webhooks.services.endpoints import (
    ROTATION_OVERLAP,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from apps.webhooks.services.messages import webhook_message_redeliver, webhook_ping
from aurum.api.context import RequestContext
from aurum.errors import InvalidInputError

DELIVERIES_SHOWN = 50
OVERLAP_HOURS = int(ROTATION_OVERLAP.total_seconds() // 3600)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"  # a signing secret is in this page, shown once
    return response


def _list_page(
    request: HttpRequest, ctx: RequestContext, *, form: EndpointForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "endpoints": list(webhook_endpoint_list_with_last_delivery()),
        "form": form or EndpointForm(),
    }
    return render(request, "portal/settings/webhooks.html", context, status=status)


def _detail_page(
    request: HttpRequest,
    ctx: RequestContext,
    endpoint: WebhookEndpoint,
    *,
    form: EndpointForm | None = None,
    secret: str = "",
    secret_is_new_endpoint: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "endpoint": endpoint,
        "form": form
        or EndpointForm(
            initial={"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
        ),
        "deliveries": list(webhook_delivery_list(endpoint=endpoint)[:DELIVERIES_SHOWN]),
        "deliveries_shown": DELIVERIES_SHOWN,
        "secret": secret,
        "secret_is_new_endpoint": secret_is_new_endpoint,
        "overlap_hours": OVERLAP_HOURS,
    }
    if request.htmx and not secret:  # type: ignore[attr-defined]
        return render(request, "portal/settings/_webhook_deliveries.html", context, status=status)
    return render(request, "portal/settings/webhook.html", context, status=status)


def _back_to(endpoint: WebhookEndpoint, anchor: str = "") -> HttpResponseRedirect:
    return redirect(reverse("portal-webhook", args=[endpoint.pk]) + (f"#{anchor}" if anchor else ""))


@require_safe
@portal_view(WEBHOOKS_MANAGE)
def webhooks_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    return _list_page(request, ctx)


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_create_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, ctx, form=form, status=400)
    try:
        endpoint = webhook_endpoint_create(
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            membership_id=ctx.membership.pk,
        )
    except InvalidInputError as error:
        form_add_issues(form, error, ISSUE_FIELDS)
        return _list_page(request, ctx, form=form, status=400)
    page = _detail_page(
        request, ctx, endpoint, secret=endpoint.secret, secret_is_new_endpoint=True, status=201
    )
    return _no_store(page)


@require_safe
@portal_view(WEBHOOKS_MANAGE)
def webhook_detail_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    return _detail_page(request, ctx, webhook_endpoint_get(endpoint_id=endpoint_id))


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_update_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, ctx, endpoint, form=form, status=400)
    try:
        webhook_endpoint_update(
            endpoint=endpoint,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
    except InvalidInputError as error:
        form_add_issues(form, error, ISSUE_FIELDS)
        return _detail_page(request, ctx, endpoint, form=form, status=400)
    messages.success(request, "Saved: new events are sent with these settings.")
    return _back_to(endpoint)


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_rotate_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    endpoint = webhook_secret_rotate(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
    return _no_store(_detail_page(request, ctx, endpoint, secret=endpoint.secret))


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_ping_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
    message = webhook_ping(endpoint=endpoint)
    later = "" if endpoint.is_enabled else " It is delivered once the endpoint is enabled."
    messages.success(
        request,
        f"Ping sent as message #{message.sequence}: its attempt appears below within seconds.{later}",
    )
    return _back_to(endpoint, "deliveries")


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_enable_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    endpoint = webhook_endpoint_enable(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
    messages.success(request, "Enabled: the messages it held are being delivered now.")
    return _back_to(endpoint)


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_delete_view(request: HttpRequest, ctx: RequestContext, endpoint_id: str) -> HttpResponse:
    endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
    webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"The endpoint {endpoint.url} is deleted with its delivery log.")
    return redirect("portal-webhooks")


@require_POST
@portal_view(WEBHOOKS_MANAGE)
def webhook_redeliver_view(
    request: HttpRequest, ctx: RequestContext, endpoint_id: str, delivery_id: int
) -> HttpResponse:
    endpoint = webhook_endpoint_get(endpoint_id=endpoint_id)
    delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    message = webhook_message_redeliver(message=delivery.message)
    messages.success(request, f"Message #{message.sequence} ({message.event_type}) is being delivered again.")
    return _back_to(endpoint, "deliveries")
