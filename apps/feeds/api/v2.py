"""The fundamentals under v2 (cursor paging, ``links``, RFC 7807 problems): the series catalog and its
observations, ISO LMP intervals and aggregates, the EIA datasets and drought. Licensed like v1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.feeds.api import serializers as s
from apps.feeds.api.respond import FeedView, licensed_datasets
from apps.feeds.models import Series
from apps.feeds.selectors import (
    drought_index_rows,
    drought_licensed,
    drought_usdm_rows,
    eia_dataset_get,
    eia_dataset_list,
    iso_providers,
    lmp_aggregate_rows,
    lmp_point_rows,
    series_get,
    series_list,
    series_observation_rows,
    series_providers,
)
from aurum.api.paging import PageRequest, page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response, v2_meta
from aurum.lakehouse.feed_queries import DroughtFilters, LmpFilters, SeriesFilters

CURSOR = [
    OpenApiParameter("limit", int, description="1-100, default 10"),
    OpenApiParameter("cursor", str, description="links.next of the previous page"),
]
ROWS = serializers.ListField(child=serializers.DictField())
PAGE = inline_serializer(
    name="FeedRowsPage",
    fields={"meta": serializers.DictField(), "data": ROWS, "links": serializers.DictField()},
)
ONE = inline_serializer(
    name="FeedObject", fields={"meta": serializers.DictField(), "data": serializers.DictField()}
)
SERIES_EXAMPLE = {
    "id": "FRED:DGS10",
    "provider": "FRED",
    "series_id": "DGS10",
    "title": "10-Year Treasury Constant Maturity Rate",
    "unit": "PCT",
    "frequency": "DAILY",
    "licence": "feed:fred",
}


def series_out(series: Series) -> dict[str, Any]:
    return {
        "id": series.key,
        "provider": series.provider,
        "series_id": series.series_id,
        "title": series.title,
        "description": series.description,
        "unit": series.unit_code,
        "frequency": series.frequency_code,
        "category": series.category,
        "source_url": series.source_url,
        "last_observation_ts": series.last_observation_ts,
        "licence": f"feed:{series.provider.lower()}",
    }


def _lake_page(
    request: Request,
    bound: dict[str, str],
    read: Callable[[PageRequest], list[dict[str, Any]]],
    shape: Callable[[dict[str, Any]], dict[str, Any]],
    ttl: int,
) -> Response:
    page = v2_page_request(request, filters=bound)
    rows = read(page)
    data = [shape(row) for row in rows[: page.limit]]
    return v2_list_response(request, data, page=page, has_more=len(rows) > page.limit, filters=bound, ttl=ttl)


def _bound(query: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in query.items() if k != "format"}


class SeriesListV2Api(FeedView):
    @extend_schema(
        operation_id="series_list",
        parameters=[s.ExternalSeriesQuery, *CURSOR],
        responses=PAGE,
        description="The series catalog (EIA, FRED, NOAA) the tenant's licence covers, by provider and id.",
        examples=[OpenApiExample("A page", value={"data": [SERIES_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.ExternalSeriesQuery, request)
        query.pop("asof", None)
        providers = series_providers(licensed_datasets(request))
        page = v2_page_request(request, filters=_bound(query))
        items, has_more = page_slice(series_list(providers=providers, **query), page)
        data = [series_out(item) for item in items]
        return v2_list_response(
            request, data, page=page, has_more=has_more, filters=_bound(query), ttl=s.METADATA_TTL
        )


class SeriesDetailV2Api(FeedView):
    @extend_schema(
        operation_id="series_retrieve",
        responses=ONE,
        description="One series by PROVIDER:ID; 404 when unknown or not licensed.",
        examples=[OpenApiExample("DGS10", value={"data": SERIES_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, series_id: str) -> Response:
        series = series_get(providers=series_providers(licensed_datasets(request)), key=series_id)
        return object_response(request, series_out(series), ttl=s.METADATA_TTL, meta=v2_meta(request))


class ObservationRange(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="ts on or after")
    end = serializers.DateTimeField(required=False, help_text="ts on or before")


def observation_out(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("ts", "period", "value", "value_raw", "unit", "status", "fetch_run_id", "fetched_at")
    return {key: row[key] for key in keys}


class SeriesObservationsV2Api(FeedView):
    @extend_schema(
        operation_id="series_observations_list",
        parameters=[ObservationRange, *CURSOR],
        responses=PAGE,
        description="A licensed series' observations, oldest first, with the fetch run that wrote each "
        "(null values kept: value_raw says what the provider sent).",
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "data": [
                        {
                            "ts": "2024-05-01T00:00:00Z",
                            "period": "2024-05-01",
                            "value": 4.12,
                            "value_raw": "4.12",
                            "unit": "PCT",
                            "status": "FINAL",
                            "fetch_run_id": 12,
                            "fetched_at": "2024-05-06T06:00:03Z",
                        }
                    ]
                },
            )
        ],
    )
    def get(self, request: Request, series_id: str) -> Response:
        series = series_get(providers=series_providers(licensed_datasets(request)), key=series_id)
        query = s.validated(ObservationRange, request)
        filters = SeriesFilters(
            providers=(series.provider,),
            provider=series.provider,
            series_id=series.series_id,
            start=s.utc(query.get("start")),
            end=s.utc(query.get("end")),
        )
        return _lake_page(
            request,
            _bound(query),
            lambda page: series_observation_rows(filters, limit=page.limit + 1, offset=page.offset),
            observation_out,
            s.SERIES_TTL,
        )


class LmpV2Query(s.LmpRangeQuery):
    bucket = serializers.ChoiceField(choices=("hour", "day"), required=False, help_text="aggregates only")


LMP_EXAMPLE = {
    "iso_code": "CAISO",
    "market": "DAY_AHEAD",
    "location_id": "TH_NP15_GEN-APND",
    "interval_start": "2024-01-15T07:00:00Z",
    "price_total": 45.67,
}


def _lmp_filters(request: Request, query: dict[str, Any]) -> LmpFilters:
    return LmpFilters(
        isos=iso_providers(licensed_datasets(request)),
        iso_code=query.get("iso_code"),
        market=query.get("market"),
        location_id=query.get("location_id"),
        start=s.utc(query.get("start")),
        end=s.utc(query.get("end")),
    )


class LmpV2Api(FeedView):
    @extend_schema(
        operation_id="iso_lmp_list",
        parameters=[s.LmpRangeQuery, *CURSOR],
        responses=PAGE,
        description=(
            "LMP intervals of the licensed ISOs (iso:caiso, iso:miso, iso:pjm, iso:ercot), oldest first, "
            "with lineage."
        ),
        examples=[OpenApiExample("A page", value={"data": [LMP_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.LmpRangeQuery, request)
        query.pop("limit", None)
        filters = _lmp_filters(request, query)
        return _lake_page(
            request,
            _bound(query),
            lambda page: lmp_point_rows(filters, limit=page.limit + 1, offset=page.offset),
            lambda row: {**s.lmp_point(row), "fetch_run_id": row["fetch_run_id"]},
            s.LMP_TTL,
        )


class LmpAggregatesV2Api(FeedView):
    @extend_schema(
        operation_id="iso_lmp_aggregates",
        parameters=[LmpV2Query, *CURSOR],
        responses=PAGE,
        description="Hourly (default) or daily UTC statistics of price_total per location, oldest first.",
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "data": [
                        {
                            **LMP_EXAMPLE,
                            "price_avg": 45.67,
                            "price_min": 45.67,
                            "price_max": 45.67,
                            "sample_count": 1,
                        }
                    ]
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(LmpV2Query, request)
        query.pop("limit", None)
        bucket = query.get("bucket", "hour")
        filters = _lmp_filters(request, query)
        return _lake_page(
            request,
            _bound(query),
            lambda page: lmp_aggregate_rows(filters, bucket=bucket, limit=page.limit + 1, offset=page.offset),
            s.lmp_aggregate,
            s.LMP_TTL,
        )


class EiaDatasetsV2Api(FeedView):
    @extend_schema(
        operation_id="eia_datasets_list",
        parameters=[s.PrefixQuery, *CURSOR],
        responses=PAGE,
        description="The EIA API v2 datasets of the catalog by path; prefix matches path or name.",
        examples=[
            OpenApiExample("A page", response_only=True, value={"data": [{"path": "natural-gas/pri/fut"}]})
        ],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.PrefixQuery, request)
        page = v2_page_request(request, filters=_bound(query))
        items, has_more = page_slice(eia_dataset_list(prefix=query.get("prefix")), page)
        data = [s.eia_dataset_brief(item) for item in items]
        return v2_list_response(
            request, data, page=page, has_more=has_more, filters=_bound(query), ttl=s.METADATA_TTL
        )


class EiaDatasetV2Api(FeedView):
    @extend_schema(
        operation_id="eia_datasets_retrieve",
        responses=ONE,
        description="One EIA dataset with its frequencies, facets and data columns; 404 when unknown.",
        examples=[OpenApiExample("One", response_only=True, value={"data": {"path": "natural-gas/pri/fut"}})],
    )
    def get(self, request: Request, dataset_path: str) -> Response:
        data = s.eia_dataset_detail(eia_dataset_get(path=dataset_path))
        return object_response(request, data, ttl=s.METADATA_TTL, meta=v2_meta(request))


def _drought_filters(request: Request, query: dict[str, Any]) -> DroughtFilters:
    names = ("region_type", "region_id", "start", "end", "dataset", "index", "timescale")
    return DroughtFilters(
        licensed=drought_licensed(licensed_datasets(request)), **{n: query.get(n) for n in names}
    )


class DroughtUsdmV2Api(FeedView):
    @extend_schema(
        operation_id="drought_usdm_list",
        parameters=[s.RegionQuery, *CURSOR],
        responses=PAGE,
        description="U.S. Drought Monitor area fractions per region and week, newest first (feed:drought).",
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "data": [
                        {
                            "region_type": "STATE",
                            "region_id": "CA",
                            "valid_date": "2024-01-09",
                            "d0_frac": 0.0827,
                        }
                    ]
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.RegionQuery, request)
        query.pop("limit", None)
        filters = _drought_filters(request, query)
        return _lake_page(
            request,
            _bound(query),
            lambda page: drought_usdm_rows(filters, limit=page.limit + 1, offset=page.offset),
            s.usdm_point,
            s.METADATA_TTL,
        )


class DroughtIndicesV2Api(FeedView):
    @extend_schema(
        operation_id="drought_indices_list",
        parameters=[s.DroughtIndexQuery, *CURSOR],
        responses=PAGE,
        description="Drought index values, newest first (feed:drought); empty until an index source "
        "is fetched.",
        examples=[OpenApiExample("No source yet", value={"data": []}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.DroughtIndexQuery, request)
        query.pop("limit", None)
        filters = _drought_filters(request, query)
        return _lake_page(
            request,
            _bound(query),
            lambda page: drought_index_rows(filters, limit=page.limit + 1, offset=page.offset),
            s.index_point,
            s.METADATA_TTL,
        )
