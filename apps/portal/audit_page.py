"""The portal's ``/settings/audit/``: the tenant's audit ledger, newest first, filtered (htmx swaps the
table), with the CSV and JSONL exports of ``/api/v2/audit/export``. Needs ``audit:read`` (tenant admins)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.accounts.roles import AUDIT_READ
from apps.audit.selectors import audit_entry_list, audit_head
from apps.portal.access import form_invalid, portal_view
from aurum.api.context import RequestContext

PAGE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64, help_text="e.g. scenario.create, or scenario.")
    actor = forms.CharField(required=False, max_length=80, help_text="user, token, system, or token:12")
    resource = forms.CharField(required=False, max_length=200, help_text="e.g. scenario or scenario:<id>")
    start = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        required=False, label="To", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


@require_safe
@portal_view(AUDIT_READ)
def audit_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        raise form_invalid(form)
    given = form.cleaned_data if form.is_bound else {}
    rows = list(
        audit_entry_list(
            start=given.get("start"),
            end=given.get("end"),
            actor=given.get("actor") or "",
            action=given.get("action") or "",
            resource=given.get("resource") or "",
            before_sequence=given.get("before"),
        )[: PAGE + 1]
    )
    entries, more = rows[:PAGE], len(rows) > PAGE
    older = request.GET.copy()
    if more:
        older["before"] = str(entries[-1].sequence)
    context = {
        "form": form if form.is_bound else AuditFilterForm(),
        "entries": entries,
        "older_query": older.urlencode() if more else "",
        "head": audit_head(),
    }
    template = "portal/settings/_audit_rows.html" if request.htmx else "portal/settings/audit.html"  # type: ignore[attr-defined]
    return render(request, template, context)
