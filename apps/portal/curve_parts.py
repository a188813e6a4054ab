"""Parts of a curve page, each also a page of its own (for keyboard users, shared links and no script):
one point's lineage, one tenor's history across vintages, and the export of the view."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from apps.curves.api.exports import CONTENT_TYPES, EXPORT_COLUMNS
from apps.curves.selectors import curve_export_points, curve_get_for_tenant, curve_tenor_history
from apps.ingestion.selectors import curve_point_lineage
from apps.portal.access import portal_view
from apps.portal.curve_detail import curve_title, curve_unit
from apps.portal.curve_figures import history_chart_spec
from apps.portal.curve_state import CurveState
from aurum.api.arrow import arrow_csv_chunks, arrow_parquet, arrow_xlsx
from aurum.api.context import RequestContext
from aurum.errors import InvalidInputError
from aurum.lakehouse.queries import CurveFilters
from tenants.selectors import tenant_datasets


def _required(value: Any, name: str, what: str) -> Any:
    if not value:
        raise InvalidInputError.field(name, f"Give {what} ({name}=…).", code="required")
    return value


@require_safe
@portal_view("curves:read")
def curve_lineage_view(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponse:
    datasets = tenant_datasets(tenant=ctx.tenant)
    curve = curve_get_for_tenant(tenant=ctx.tenant, curve_key=curve_key, datasets=datasets)
    state = CurveState.from_query(curve_key, request.GET)
    asof: date = _required(state.asof, "asof", "the as-of date")
    tenor: str = _required(state.tenor, "tenor", "the tenor label")
    lineage = curve_point_lineage(curve=curve, tenor_label=tenor, asof=asof)
    source = dict(lineage["source"])
    known = ("file_name", "sha256", "sheet_name", "dataset", "version_hash", "derived_from_monthly_points")
    context = {
        "curve": curve,
        "title": curve_title(curve),
        "unit": curve_unit(curve),
        "lineage": lineage,
        "point": lineage["point"],
        "source": source,
        # Fields a newer lineage carries (the workbook cell) are shown as they come.
        "source_more": [
            (k.replace("_", " "), v) for k, v in source.items() if k not in known and v not in (None, "")
        ],
        "back_url": state.with_(tenor="").url(),
        "asof": asof,
        "tenor": tenor,
    }
    template = "portal/curves/_lineage.html" if request.htmx else "portal/curves/lineage.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_safe
@portal_view("curves:read")
def curve_history_view(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponse:
    datasets = tenant_datasets(tenant=ctx.tenant)
    curve = curve_get_for_tenant(tenant=ctx.tenant, curve_key=curve_key, datasets=datasets)
    state = CurveState.from_query(curve_key, request.GET)
    tenor: str = _required(state.tenor, "tenor", "the tenor label")
    points = curve_tenor_history(curve=curve, tenor_label=tenor, datasets=frozenset({curve.dataset})).table
    rows = points.to_pylist()
    context = {
        "curve": curve,
        "title": curve_title(curve),
        "unit": curve_unit(curve),
        "tenor": tenor,
        "rows": rows,
        "chart": history_chart_spec(rows, y_label=curve_unit(curve)),
        "back_url": state.with_(tenor="").url(),
    }
    template = "portal/curves/_history.html" if request.htmx else "portal/curves/history.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_safe
@portal_view("curves:read")
def curve_export_view(request: HttpRequest, ctx: RequestContext, curve_key: str) -> HttpResponseBase:
    """The rows of the view (its vintage, and the compared one) in CSV, XLSX or Parquet, with the columns
    and writers of the API's export (``/api/v2/curves/export``)."""
    datasets = tenant_datasets(tenant=ctx.tenant)
    curve = curve_get_for_tenant(tenant=ctx.tenant, curve_key=curve_key, datasets=datasets)
    state = CurveState.from_query(curve_key, request.GET)
    asof: date = _required(state.asof, "asof", "the as-of date")
    fmt = request.GET.get("format", "csv")
    if fmt not in CONTENT_TYPES:
        raise InvalidInputError.field("format", "format must be csv, xlsx or parquet.", code="invalid_choice")
    filters = CurveFilters(
        datasets=(curve.dataset,), curve_keys=(curve.curve_key,), tenor_type=state.tenor_type or None
    )
    vintages = [asof] if state.compare is None else [state.compare, asof]
    tables = [
        curve_export_points(filters=filters, asof=day, max_rows=settings.AURUM_EXPORT_MAX_ROWS).table
        for day in vintages
    ]
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    label = "_".join(f"{day:%Y%m%d}" for day in vintages)
    name = f"{slugify(curve_title(curve))[:60] or 'curve'}_{label}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Row-Count": str(table.num_rows)}
    if fmt == "csv":
        return StreamingHttpResponse(
            arrow_csv_chunks(table, EXPORT_COLUMNS), content_type=CONTENT_TYPES[fmt], headers=headers
        )
    content = arrow_xlsx(table, EXPORT_COLUMNS) if fmt == "xlsx" else arrow_parquet(table, EXPORT_COLUMNS)
    return HttpResponse(content, content_type=CONTENT_TYPES[fmt], headers=headers)
