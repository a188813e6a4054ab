"""``/curves/<curve_key>/?asof=YYYY-MM-DD``: one curve's vintage as a chart and a table, a second vintage to
compare, the vintage scrubber, one tenor's history, each point's lineage, exports and "copy as".

A curve outside the tenant's licence is 404 (``curve_get_for_tenant``), as in the API.
"""

from __future__ import annotations

import bisect
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django_htmx.http import push_url

from apps.curves.models import Curve
from apps.curves.selectors import curve_get_for_tenant, curve_vintage_points
from apps.ingestion.selectors import curve_asof_dates
from apps.portal.access import portal_view
from apps.portal.curve_figures import (
    TenorRow,
    curve_chart_spec,
    default_tenor_type,
    table_cells,
    tenor_rows,
    tenor_types,
)
from apps.portal.curve_state import CurveState
from aurum.api.context import RequestContext
from aurum.api.read_cache import read_through
from aurum.errors import InvalidInputError
from tenants.selectors import tenant_datasets

PORTAL_READ_TTL = 120  # seconds, as the API's curve reads


def curve_unit(curve: Curve) -> str:
    if curve.currency and curve.per_unit:
        return f"{curve.currency}/{curve.per_unit}"
    return curve.units_raw or curve.currency or ""


def curve_title(curve: Curve) -> str:
    return (
        " · ".join(part for part in (curve.location, curve.product, curve.block) if part) or curve.curve_key
    )


def _nearest(vintages: list[date], day: date) -> str:
    at = bisect.bisect_left(vintages, day)
    near = vintages[max(at - 1, 0) : at + 1]
    return ", ".join(d.isoformat() for d in near)


def _check_vintage(vintages: list[date], day: date, field: str) -> None:
    if day not in vintages:
        raise InvalidInputError.field(
            field,
            f"This curve has no vintage on {day.isoformat()}. Nearest: {_nearest(vintages, day)}.",
            code="no_vintage",
        )


@require_safe
@portal_view("curves:read")
def curve_detail_view(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponse:
    datasets = tenant_datasets(tenant=ctx.tenant)
    curve = curve_get_for_tenant(tenant=ctx.tenant, curve_key=curve_key, datasets=datasets)
    state = CurveState.from_query(curve_key, request.GET)
    vintages = curve_asof_dates(curve=curve)
    if not vintages:
        return render(request, "portal/curves/detail.html", {"curve": curve, "title": curve_title(curve)})
    scrubbed = state.vintage is not None
    if state.vintage is not None:  # the scrubber names a position; the URL names its date
        state = state.with_(asof=vintages[min(state.vintage, len(vintages) - 1)])
    if state.asof is None:  # a shared link must keep showing these numbers: name the vintage
        return redirect(state.with_(asof=vintages[-1]).url())
    _check_vintage(vintages, state.asof, "asof")
    if state.compare is not None:
        _check_vintage(vintages, state.compare, "compare")
    position = vintages.index(state.asof)
    previous = vintages[position - 1] if position > 0 else None

    # The previous vintage is ghosted behind the curve unless another vintage is compared explicitly.
    other = state.compare if state.compare is not None else previous
    dates = (state.asof,) if other is None else (state.asof, other)
    # Cached like the API's reads: keyed by tenant, licence and the dataset's version (an ingest moves it).
    read, _ = read_through(
        scope="portal.curve",
        tenant_id=ctx.tenant.pk,
        datasets=datasets,
        params={"curve_key": curve.curve_key, "dates": [d.isoformat() for d in dates]},
        compute=lambda: curve_vintage_points(curve=curve, dates=dates),
        ttl=PORTAL_READ_TTL,
        versioned=frozenset({curve.dataset}),
    )
    points = read[state.asof]
    types = tenor_types(points)
    tenor_type = state.tenor_type if state.tenor_type in dict(types) else default_tenor_type(types) or ""
    ghost = read[previous] if previous is not None and state.compare is None else None
    compare = read[state.compare] if state.compare is not None else None
    rows = tenor_rows(points, tenor_type=tenor_type, compare=compare, ghost=ghost)
    view_state = state.with_(tenor_type=tenor_type if tenor_type != default_tenor_type(types) else "")

    history_base = reverse("portal-curve-history", args=[curve.curve_key]) + "?"

    def lineage_url(row: TenorRow) -> str:
        return view_state.url("portal-curve-lineage", tenor=row.tenor_label)

    chart = curve_chart_spec(
        rows,
        asof=state.asof,
        compare=state.compare,
        ghost=previous if ghost is not None else None,
        y_label=curve_unit(curve),
        point_link=lineage_url,
    )
    context: dict[str, Any] = {
        "curve": curve,
        "title": curve_title(curve),
        "unit": curve_unit(curve),
        "state": view_state,
        "rows": [
            {
                "tenor": row.tenor_label,
                "month": row.contract_month.strftime("%b %Y") if row.contract_month else "—",
                "cells": table_cells(row, compare=state.compare is not None),
                "lineage_url": lineage_url(row),
                "history_url": view_state.with_(tenor=row.tenor_label).url(),
                "history_fragment": history_base + urlencode({"tenor": row.tenor_label}),
                "selected": row.tenor_label == state.tenor,
            }
            for row in rows
        ],
        "chart": chart,
        "vintages": [d.isoformat() for d in vintages],
        "position": position,
        "previous": previous,
        "tenor_types": types,
        "tenor_type": tenor_type,
        "history_url": view_state.url("portal-curve-history") if state.tenor else "",
        "exports": [
            (fmt, view_state.url("portal-curve-export", format=fmt)) for fmt in ("csv", "xlsx", "parquet")
        ],
        "copy_as": copy_as(request, curve_key=curve.curve_key, asof=state.asof, compare=state.compare),
        "compare_choices": [d.isoformat() for d in reversed(vintages) if d != state.asof],
    }
    if request.htmx and request.htmx.target == "curve-view":  # type: ignore[attr-defined]
        response = render(request, "portal/curves/_curve_view.html", context)
        return push_url(response, view_state.url()) if scrubbed else response
    return render(request, "portal/curves/detail.html", context)


def copy_as(request: HttpRequest, *, curve_key: str, asof: date, compare: date | None) -> dict[str, str]:
    """The same numbers from the API: a curl command and a Python call, the token left as a placeholder."""
    origin = request.build_absolute_uri("/").rstrip("/")
    if compare is None:
        path, params = f"/api/v2/curves/{curve_key}", {"asof": asof.isoformat()}
        pick = '["data"]["points"]'
    else:
        path = "/api/v2/curves/diff"
        params = {"curve_key": curve_key, "asof_a": compare.isoformat(), "asof_b": asof.isoformat()}
        pick = '["data"]'
    query = "&".join(f"{k}={v}" for k, v in params.items())
    curl = f"curl -H 'Authorization: Bearer <YOUR_TOKEN>' '{origin}{path}?{query}'"
    python = (
        "import requests\n\n"
        "response = requests.get(\n"
        f'    "{origin}{path}",\n'
        f"    params={params!r},\n"
        '    headers={"Authorization": "Bearer <YOUR_TOKEN>"},\n'
        "    timeout=30,\n"
        ")\n"
        "response.raise_for_status()\n"
        f"rows = response.json(){pick}"
    )
    return {"curl": curl, "python": python}
