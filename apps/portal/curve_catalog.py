"""``/curves/``: the licensed curve catalog, type-ahead search and filters, paged; all state in the URL."""

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.curves.selectors import CATALOG_FILTERS, curve_catalog_facets, curve_catalog_list
from apps.portal.access import portal_view
from aurum.api.context import RequestContext
from tenants.selectors import tenant_datasets

PAGE_SIZE = 25
FILTER_LABELS = {
    "iso": "ISO",
    "market": "Market",
    "location": "Location",
    "product": "Product",
    "block": "Block",
    "commodity": "Commodity",
    "dataset": "Dataset",
}


@require_safe
@portal_view("curves:read")
def curve_catalog_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    datasets = tenant_datasets(tenant=ctx.tenant)
    search = request.GET.get("q", "").strip()[:200]
    chosen = {name: request.GET[name] for name in CATALOG_FILTERS if request.GET.get(name)}
    curves = curve_catalog_list(datasets=datasets, search=search, filters=chosen)
    page = Paginator(curves, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "search": search,
        "chosen": chosen,
        "query": query.urlencode(),
        "filtered": bool(search or chosen),
        "has_data": bool(datasets),
    }
    if request.htmx and request.htmx.target == "catalog-results":  # type: ignore[attr-defined]
        return render(request, "portal/curves/_catalog_results.html", context)
    facets = curve_catalog_facets(datasets=datasets)
    context["filters"] = [
        {"name": name, "label": FILTER_LABELS[name], "values": facets[name], "chosen": chosen.get(name, "")}
        for name in CATALOG_FILTERS
    ]
    return render(request, "portal/curves/catalog.html", context)
