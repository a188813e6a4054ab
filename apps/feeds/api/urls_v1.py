from django.urls import path

from apps.feeds.api import mappings, v1, v1_drought

urlpatterns = [
    path("admin/mappings", mappings.MappingsV1Api.as_view(), name="v1-admin-mappings"),
    path("admin/mappings/search", mappings.MappingSearchV1Api.as_view(), name="v1-admin-mappings-search"),
    path(
        "admin/mappings/<str:provider>/<str:series_id>",
        mappings.MappingV1Api.as_view(),
        name="v1-admin-mapping",
    ),
    path("iso/lmp/last-24h", v1.LmpLast24hV1Api.as_view(), name="v1-iso-lmp-last-24h"),
    path("iso/lmp/hourly", v1.LmpHourlyV1Api.as_view(), name="v1-iso-lmp-hourly"),
    path("iso/lmp/daily", v1.LmpDailyV1Api.as_view(), name="v1-iso-lmp-daily"),
    path("iso/lmp/negative", v1.LmpNegativeV1Api.as_view(), name="v1-iso-lmp-negative"),
    path("metadata/eia/datasets", v1.EiaDatasetListV1Api.as_view(), name="v1-eia-datasets"),
    path(
        "metadata/eia/datasets/<path:dataset_path>", v1.EiaDatasetDetailV1Api.as_view(), name="v1-eia-dataset"
    ),
    path("ref/eia/series", v1.EiaSeriesV1Api.as_view(), name="v1-eia-series"),
    path("ref/eia/series/dimensions", v1.EiaSeriesDimensionsV1Api.as_view(), name="v1-eia-series-dimensions"),
    path("external/providers", v1.ExternalProvidersV1Api.as_view(), name="v1-external-providers"),
    path("external/series", v1.ExternalSeriesV1Api.as_view(), name="v1-external-series"),
    path(
        "external/series/<str:series_id>/observations",
        v1.ExternalObservationsV1Api.as_view(),
        name="v1-external-observations",
    ),
    path("metadata/external", v1.ExternalMetadataV1Api.as_view(), name="v1-metadata-external"),
    path("drought/dimensions", v1_drought.DroughtDimensionsV1Api.as_view(), name="v1-drought-dimensions"),
    path("drought/indices", v1_drought.DroughtIndicesV1Api.as_view(), name="v1-drought-indices"),
    path("drought/usdm", v1_drought.DroughtUsdmV1Api.as_view(), name="v1-drought-usdm"),
    path(
        "drought/info/<str:dataset>/<str:index>/<str:timescale>",
        v1_drought.DroughtInfoV1Api.as_view(),
        name="v1-drought-info",
    ),
    path(
        "drought/tiles/<str:dataset>/<str:index>/<str:timescale>/<int:z>/<int:x>/<int:y>.png",
        v1_drought.DroughtTileV1Api.as_view(),
        name="v1-drought-tile",
    ),
]
