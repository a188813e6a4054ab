"""The original contract's drought paths (``/v1/drought/*``): dimensions, indices, USDM, raster info, and
tiles, which answer 501: Aurum has no raster source (docs/api.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.feeds.api import schema
from apps.feeds.api import serializers as s
from apps.feeds.api.respond import FeedView, licensed_datasets, whole
from apps.feeds.selectors import drought_index_rows, drought_licensed, drought_usdm_rows
from aurum.api.responses import object_response
from aurum.errors import AurumError, NotFoundError
from aurum.lakehouse.feed_queries import DroughtFilters

DROUGHT = {
    "datasets": ["nclimgrid", "acis", "cpc", "prism", "eddi"],
    "indices": ["SPI", "SPEI", "EDDI", "PDSI", "QuickDRI", "VHI"],
    "timescales": ["1M", "3M", "6M", "9M", "12M", "24M", "1W", "2W", "4W"],
    "layers": ["usdm", "qpf", "ahps_flood", "aqi", "wildfire"],
    "region_types": ["ISO_NODE", "ISO_ZONE", "STATE", "COUNTY", "HUC2", "HUC8"],
}


class DroughtDimensionsV1Api(FeedView):
    @extend_schema(
        operation_id="v1_drought_dimensions",
        responses=schema.V1_DROUGHT_DIMENSIONS,
        description="The drought datasets, indices, timescales, layers and region types.",
    )
    def get(self, request: Request) -> Response:
        return object_response(request, DROUGHT, ttl=s.METADATA_TTL)


def _drought(request: Request, serializer: type[Any]) -> tuple[DroughtFilters, int]:
    query = s.validated(serializer, request)
    names = ("region_type", "region_id", "start", "end", "dataset", "index", "timescale")
    filters = DroughtFilters(
        licensed=drought_licensed(licensed_datasets(request)), **{n: query.get(n) for n in names}
    )
    return filters, query.get("limit", 250)


class DroughtIndicesV1Api(FeedView):
    @extend_schema(
        operation_id="v1_drought_indices",
        parameters=[s.DroughtIndexQuery],
        responses=schema.V1_DROUGHT_INDICES,
        description="Drought index values (needs feed:drought), newest first. No index source is "
        "fetched yet: the table is empty until one is.",
    )
    def get(self, request: Request) -> Response:
        filters, limit = _drought(request, s.DroughtIndexQuery)
        return whole(
            request, [s.index_point(r) for r in drought_index_rows(filters, limit=limit)], ttl=s.METADATA_TTL
        )


class DroughtUsdmV1Api(FeedView):
    @extend_schema(
        operation_id="v1_drought_usdm",
        parameters=[s.RegionQuery],
        responses=schema.V1_DROUGHT_USDM,
        description="U.S. Drought Monitor area fractions per region and week (needs feed:drought).",
    )
    def get(self, request: Request) -> Response:
        filters, limit = _drought(request, s.RegionQuery)
        return whole(
            request, [s.usdm_point(r) for r in drought_usdm_rows(filters, limit=limit)], ttl=s.METADATA_TTL
        )


def _raster(request: Request, dataset: str, index: str, timescale: str) -> bool:
    """A raster Aurum knows of and the caller may read; 404 otherwise (licence or name, not saying which)."""
    licensed = drought_licensed(licensed_datasets(request))
    known = (
        dataset in DROUGHT["datasets"] and index in DROUGHT["indices"] and timescale in DROUGHT["timescales"]
    )
    if not (licensed and known):
        raise NotFoundError(f"No drought raster {dataset}/{index}/{timescale}.")
    return licensed


class DroughtInfoV1Api(FeedView):
    @extend_schema(
        operation_id="v1_drought_info",
        parameters=[s.ValidDate],
        responses=schema.V1_DROUGHT_INFO,
        description="What Aurum holds for a raster (dataset, index, timescale, valid date): the "
        "regions with values, and that no tiles are served; 404 for an unknown or unlicensed raster.",
    )
    def get(self, request: Request, dataset: str, index: str, timescale: str) -> Response:
        licensed = _raster(request, dataset, index, timescale)
        valid = s.validated(s.ValidDate, request)["valid_date"]
        filters = DroughtFilters(
            licensed=licensed,
            dataset=dataset,
            index=index,
            timescale=timescale,
            start=valid,
            end=valid,
        )
        rows = drought_index_rows(filters, limit=1000)
        values = [r["value"] for r in rows if r["value"] is not None]
        data = {
            "dataset": dataset,
            "index": index,
            "timescale": timescale,
            "valid_date": valid.isoformat(),
            "regions": len(rows),
            "min": min(values, default=None),
            "max": max(values, default=None),
            "tiles_available": False,
        }
        return object_response(request, data, ttl=s.METADATA_TTL)


class DroughtTileUnavailableError(AurumError):
    status = 501
    title = "Not Implemented"
    slug = "drought-tiles-unavailable"


class DroughtTileV1Api(FeedView):
    @extend_schema(
        operation_id="v1_drought_tile",
        parameters=[s.ValidDate],
        responses={(200, "image/png"): OpenApiTypes.BINARY, 501: schema.PROBLEM},
        examples=[
            OpenApiExample(
                "No raster source",
                status_codes=["501"],
                response_only=True,
                value={
                    "type": "https://aurum.example/problems/drought-tiles-unavailable",
                    "title": "Not Implemented",
                    "status": 501,
                    "detail": "Aurum has no drought raster source; tiles are not served.",
                },
            )
        ],
        description="Drought map tiles (a PNG, as the original proxied): Aurum has no raster source "
        "yet, so a known raster answers 501 with a problem body, never the PNG; an unknown or unlicensed "
        "one 404 (docs/api.md, Market fundamentals).",
    )
    def get(
        self, request: Request, dataset: str, index: str, timescale: str, z: int, x: int, y: int
    ) -> Response:
        _raster(request, dataset, index, timescale)
        s.validated(s.ValidDate, request)
        raise DroughtTileUnavailableError("Aurum has no drought raster source; tiles are not served.")
