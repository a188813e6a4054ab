"""The OpenAPI shapes of the feed bodies, named as in the v1 contract (``openapi-spec-v1.yaml``)."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from aurum.api.openapi import V1CountMeta, V1PageMeta, v1_envelope

ROWS = serializers.ListField(child=serializers.DictField())
V1_LMP = v1_envelope("IsoLmpResponse", ROWS, V1CountMeta())
V1_LMP_AGGREGATE = v1_envelope("IsoLmpAggregateResponse", ROWS, V1CountMeta())
V1_EIA_DATASETS = v1_envelope("EiaDatasetsResponse", ROWS, V1CountMeta())
V1_EIA_DATASET = v1_envelope("EiaDatasetResponse", serializers.DictField())
V1_EIA_SERIES = v1_envelope("EiaSeriesResponse", ROWS, V1PageMeta())
V1_EIA_DIMENSIONS = v1_envelope(
    "EiaSeriesDimensionsResponse",
    serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
)
V1_PROVIDERS = v1_envelope("ExternalProvidersResponse", ROWS, V1PageMeta())
V1_SERIES = v1_envelope("ExternalSeriesResponse", ROWS, V1PageMeta())
V1_OBSERVATIONS = v1_envelope("ExternalObservationsResponse", ROWS, V1PageMeta())
V1_EXTERNAL_METADATA = inline_serializer(
    name="ExternalMetadataResponse",
    fields={
        "providers": ROWS,
        "total_series": serializers.IntegerField(),
        "last_updated": serializers.DateTimeField(allow_null=True),
    },
)
V1_DROUGHT_DIMENSIONS = v1_envelope(
    "DroughtDimensionsResponse",
    serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
)
V1_DROUGHT_INDICES = v1_envelope("DroughtIndexResponse", ROWS, V1CountMeta())
V1_DROUGHT_USDM = v1_envelope("DroughtUsdmResponse", ROWS, V1CountMeta())
V1_DROUGHT_INFO = v1_envelope("DroughtInfoResponse", serializers.DictField())
PROBLEM = inline_serializer(
    name="FeedsProblem",
    fields={
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
    },
)
