"""``/curves/movers/?asof_a=…&asof_b=…``: the largest moves between two vintages across the licensed curves,
ranked, each linked to its curve compared on those two dates."""

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from apps.curves.models import Curve
from apps.curves.selectors import curve_movers
from apps.ingestion.selectors import published_asof_dates
from apps.portal.access import form_invalid, portal_view
from apps.portal.curve_detail import PORTAL_READ_TTL, curve_title
from aurum.api.context import RequestContext
from aurum.api.read_cache import read_through
from aurum.errors import InvalidInputError
from aurum.lakehouse.queries import MOVER_RANKINGS, CurveFilters
from tenants.selectors import tenant_datasets

TOP_CHOICES = (20, 50, 100, 200)


class MoversForm(forms.Form):
    asof_a = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    asof_b = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    top = forms.TypedChoiceField(choices=[(n, n) for n in TOP_CHOICES], coerce=int, required=False)
    by = forms.ChoiceField(choices=[(b, b) for b in MOVER_RANKINGS], required=False)


def _curve_link(move: dict[str, Any], *, asof_a: date, asof_b: date) -> dict[str, str]:
    """The curve page's state for a move: the two vintages compared, the moved tenor chosen."""
    link = {"asof": asof_b.isoformat(), "compare": asof_a.isoformat()}
    if move["tenor_type"] != "MONTHLY":
        link["tenor_type"] = move["tenor_type"]
    link["tenor"] = move["tenor_label"]
    return link


@require_safe
@portal_view("curves:read")
def curve_movers_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = MoversForm(request.GET)
    if not form.is_valid():
        raise form_invalid(
            form, hints={"asof_a": "Use a date like 2025-07-03.", "asof_b": "Use a date like 2025-07-03."}
        )
    data: dict[str, Any] = form.cleaned_data
    datasets = tenant_datasets(tenant=ctx.tenant)
    published = published_asof_dates(datasets=datasets, limit=30)
    asof_a, asof_b = data["asof_a"], data["asof_b"]
    top, by = data["top"] or TOP_CHOICES[0], data["by"] or "abs"
    if asof_a is None or asof_b is None:  # name the dates, so the link keeps showing these moves
        if len(published) < 2:
            return render(request, "portal/curves/movers.html", {"published": published, "no_pair": True})
        query = {"asof_a": published[1].isoformat(), "asof_b": published[0].isoformat(), "top": top, "by": by}
        return redirect(f"{reverse('portal-curve-movers')}?{urlencode(query)}")
    if asof_b <= asof_a:
        raise InvalidInputError.field("asof_b", "asof_b must be after asof_a.", code="order")
    filters = CurveFilters(datasets=tuple(sorted(datasets)))
    moves, _ = read_through(
        scope="portal.movers",
        tenant_id=ctx.tenant.pk,
        datasets=datasets,
        params={"asof_a": asof_a.isoformat(), "asof_b": asof_b.isoformat(), "top": top, "by": by},
        compute=lambda: curve_movers(
            filters=filters, asof_a=asof_a, asof_b=asof_b, top=top, by=by
        ).table.to_pylist(),
        ttl=PORTAL_READ_TTL,
    )
    curves = Curve.objects.in_bulk([m["curve_key"] for m in moves], field_name="curve_key")
    rows = [
        {
            **move,
            # Relative to the size of the first mid, so a rise reads as a rise on a negative price too.
            "pct": move["diff_abs"] / abs(move["mid_a"]) * 100 if move["mid_a"] else None,
            "curve": curves.get(move["curve_key"]),
            "title": curve_title(curves[move["curve_key"]])
            if move["curve_key"] in curves
            else move["curve_key"],
            "url": reverse("portal-curve", args=[move["curve_key"]])
            + "?"
            + urlencode(
                {"asof": asof_b.isoformat(), "compare": asof_a.isoformat(), "tenor": move["tenor_label"]}
            ),
        }
        for move in moves
    ]
    context = {
        "rows": rows,
        "asof_a": asof_a,
        "asof_b": asof_b,
        "top": top,
        "by": by,
        "top_choices": TOP_CHOICES,
        "published": [d.isoformat() for d in published],
    }
    return render(request, "portal/curves/movers.html", context)
