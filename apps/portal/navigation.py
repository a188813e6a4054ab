"""The portal's navigation, from the request's credential: a context processor for every portal template.

Settings is shown only to members who manage API tokens (their own or everyone's): viewers see no settings.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from apps.accounts.roles import AUDIT_READ, MEMBERS_MANAGE, TENANT_EXPORT, WEBHOOKS_MANAGE
from apps.accounts.selectors import token_reach
from aurum.api.context import request_context_or_none


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool


_SECTIONS: tuple[tuple[str, str], ...] = (
    ("Home", "/"),
    ("Curves", "/curves/"),
    ("Movers", "/curves/movers/"),
    ("Ingestion", "/ingestion/"),
    ("Scenarios", "/scenarios/"),
    ("PPA", "/ppa/"),
    ("Settings", "/settings/"),
)


def nav_items(*, path: str, permissions: frozenset[str]) -> list[NavItem]:
    """The sections this credential may open; the current one is the longest prefix of ``path``."""
    shown = [
        (label, href)
        for label, href in _SECTIONS
        if label != "Settings" or token_reach(permissions) is not None
    ]
    matching = [href for _, href in shown if path == href or (href != "/" and path.startswith(href))]
    current = max(matching, key=len, default=None)
    return [NavItem(label=label, href=href, current=href == current) for label, href in shown]


def portal_navigation(request: HttpRequest) -> dict[str, Any]:
    """``portal`` (the RequestContext), ``tenant``, ``membership`` and ``nav`` for a signed-in member."""
    ctx = request_context_or_none(request)
    if ctx is None or ctx.token is not None:
        return {}
    return {
        "portal": ctx,
        "tenant": ctx.tenant,
        "membership": ctx.membership,
        "nav": nav_items(path=request.path, permissions=ctx.permissions),
        # The settings pages' own tabs (templates/portal/settings/_nav.html), the same on every one of them.
        "can_manage_webhooks": ctx.can(WEBHOOKS_MANAGE),
        "can_manage_sso": ctx.can(MEMBERS_MANAGE),
        "can_read_audit": ctx.can(AUDIT_READ),
        "can_export": ctx.can(TENANT_EXPORT),
    }
