"""Who acts in this request, for the audit ledger and for django-auditlog's row history.

Runs after the tenant middleware, which has resolved the credential (a bearer token or a session) into the
request's context: the actor is the token (acting for its member) or the signed-in user, with the request
id and the client address (``aurum.observability.client_address``: proxy headers only as configured).
Replaces ``auditlog.middleware.AuditlogMiddleware``, which knew session users only (token requests recorded
no actor) and trusted ``X-Forwarded-For`` from anyone.
"""

from __future__ import annotations

from collections.abc import Callable

from auditlog.context import set_extra_data
from django.http import HttpRequest, HttpResponse

from apps.audit.context import SYSTEM, AuditContext, actor_for_token, actor_for_user, audit_context_set
from aurum.api.context import request_context_or_none
from aurum.observability.client_address import client_address
from aurum.observability.context import current_request_id


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = request_context_or_none(request)
        user = None
        actor = SYSTEM
        if context is not None:
            user = context.user
            actor = actor_for_token(context.token) if context.token is not None else actor_for_user(user)
        elif request.user.is_authenticated:  # the platform admin (public schema)
            user = request.user
            actor = actor_for_user(user)  # type: ignore[arg-type]
        address = client_address(request)
        audit = AuditContext(actor=actor, request_id=current_request_id() or "", remote_addr=address)
        with (
            audit_context_set(audit),
            set_extra_data(context_data={"actor": user, "remote_addr": address or None, "remote_port": None}),
        ):
            return self.get_response(request)
