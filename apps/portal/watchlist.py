"""The watchlist in the portal: ``/watchlist/`` (manage follows and thresholds), the follow control of a curve
page and the home page's watchlist and notices (fragments the pages load with htmx, so neither page's view
knows about watchlists), and marking notices read. The live banner is ``static/portal/watchlist.js``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.curves.selectors import curve_get_for_tenant
from apps.portal.access import form_invalid, portal_view
from apps.portal.curve_detail import curve_title, curve_unit
from apps.watchlists.models import Follow
from apps.watchlists.selectors import follow_curves, follow_list, notice_list
from apps.watchlists.services import follow_create, follow_delete, follow_update, notice_mark_read
from aurum.api.context import RequestContext

READ = "curves:read"
HOME_NOTICES = 10


class FollowForm(forms.Form):
    threshold_pct = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=3)
    threshold_abs = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=4)
    tenor = forms.CharField(required=False, max_length=32)
    action = forms.ChoiceField(choices=[("follow", "follow"), ("unfollow", "unfollow")], required=False)


def _rows(follows: list[Follow]) -> list[dict[str, Any]]:
    curves = follow_curves(follows=follows)
    rows = []
    for follow in follows:
        curve = curves.get(follow.curve_key)
        title = curve_title(curve) if curve else follow.curve_key
        rows.append(
            {
                "follow": follow,
                "title": title,
                "unit": curve_unit(curve) if curve else "",
                "pct": _plain(follow.threshold_pct) if follow.threshold_pct is not None else "",
                "abs": _plain(follow.threshold_abs) if follow.threshold_abs is not None else "",
            }
        )
    return rows


def _plain(value: Decimal) -> str:
    """2.500 -> "2.5", 10.000 -> "10" (no exponent)."""
    return f"{value.normalize():f}"


def threshold_text(follow: Follow) -> str:
    """The follow's threshold as people say it: "2.5 %", "1.25" (curve units) or "2.5 % or 1.25"."""
    parts = []
    if follow.threshold_pct is not None:
        parts.append(f"{_plain(follow.threshold_pct)} %")
    if follow.threshold_abs is not None:
        parts.append(_plain(follow.threshold_abs))
    return " or ".join(parts)


def _control(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponse:
    follow = follow_list(membership=ctx.membership).filter(curve_key=curve_key).first()
    context = {
        "curve_key": curve_key,
        "follow": follow,
        "threshold": threshold_text(follow) if follow else "",
    }
    return render(request, "portal/watchlists/_follow_control.html", context)


@require_http_methods(["GET", "POST"])
@portal_view(READ)
def watchlist_follow_view(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponse:
    """The follow control of a curve (GET); follow, change the threshold or unfollow it (POST)."""
    curve = curve_get_for_tenant(tenant=ctx.tenant, curve_key=curve_key)
    if request.method == "POST":
        form = FollowForm(request.POST)
        if not form.is_valid():
            raise form_invalid(form, hints={"threshold_pct": "A percent above 0, e.g. 2.5."})
        data = form.cleaned_data
        existing = follow_list(membership=ctx.membership).filter(curve_key=curve.curve_key).first()
        if data["action"] == "unfollow":
            if existing is not None:
                follow_delete(follow=existing)
        elif existing is not None and request.POST.get("scope") == "update":
            follow_update(
                tenant=ctx.tenant,
                follow=existing,
                threshold_pct=data["threshold_pct"],
                threshold_abs=data["threshold_abs"],
                tenor=data["tenor"] or "",
            )
        else:
            follow_create(
                tenant=ctx.tenant,
                membership=ctx.membership,
                curve_key=curve.curve_key,
                threshold_pct=data["threshold_pct"],
                threshold_abs=data["threshold_abs"],
                tenor=data["tenor"] or "",
            )
        if not request.htmx:  # type: ignore[attr-defined]
            return redirect(_local(request.POST.get("next", "")) or "portal-watchlist")
    return _control(request, ctx, curve.curve_key)


def _local(target: str) -> str:
    """``target`` if it is a path of this site, else "" (never an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else ""


@require_safe
@portal_view(READ)
def watchlist_page_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    rows = _rows(list(follow_list(membership=ctx.membership)))
    return render(request, "portal/watchlists/page.html", {"rows": rows})


@require_safe
@portal_view(READ)
def watchlist_panel_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    """The home page's watchlist (each followed curve with its latest move) and notices (unread first)."""
    return _panel(request, ctx)


def _panel(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    rows = _rows(list(follow_list(membership=ctx.membership)))
    notices = list(notice_list(membership=ctx.membership)[:HOME_NOTICES])
    unread = sum(1 for notice in notices if notice.read_at is None)
    context = {"rows": rows, "notices": notices, "unread": unread}
    return render(request, "portal/watchlists/_panel.html", context)


@require_POST
@portal_view(READ)
def notices_read_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    """Mark one notice (``id``) or every unread one read; answers the refreshed home panel."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    notice_mark_read(membership=ctx.membership, notice_ids=ids)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("portal-home")
    return _panel(request, ctx)
