from django.urls import path

from apps.feeds.api import mappings, quarantine, v2

urlpatterns = [
    path("series", v2.SeriesListV2Api.as_view(), name="series"),
    path("series/<str:series_id>", v2.SeriesDetailV2Api.as_view(), name="series-detail"),
    path(
        "series/<str:series_id>/observations",
        v2.SeriesObservationsV2Api.as_view(),
        name="series-observations",
    ),
    path("iso/lmp", v2.LmpV2Api.as_view(), name="iso-lmp"),
    path("iso/lmp/aggregates", v2.LmpAggregatesV2Api.as_view(), name="iso-lmp-aggregates"),
    path("eia/datasets", v2.EiaDatasetsV2Api.as_view(), name="eia-datasets"),
    path("eia/datasets/<path:dataset_path>", v2.EiaDatasetV2Api.as_view(), name="eia-dataset"),
    path("drought/usdm", v2.DroughtUsdmV2Api.as_view(), name="drought-usdm"),
    path("drought/indices", v2.DroughtIndicesV2Api.as_view(), name="drought-indices"),
    # Quarantine review (the operators'): rows the datasets' contracts held back.
    path("feeds/quarantine", quarantine.FeedQuarantineListV2Api.as_view(), name="feed-quarantine"),
    path(
        "feeds/quarantine/<int:row_id>/release",
        quarantine.FeedQuarantineReleaseV2Api.as_view(),
        name="feed-quarantine-release",
    ),
    path(
        "feeds/quarantine/<int:row_id>/reject",
        quarantine.FeedQuarantineRejectV2Api.as_view(),
        name="feed-quarantine-reject",
    ),
    path("series-curve-mappings", mappings.MappingsV2Api.as_view(), name="series-curve-mappings"),
    path(
        "series-curve-mappings/<int:mapping_id>",
        mappings.MappingV2Api.as_view(),
        name="series-curve-mapping",
    ),
    path(
        "series-mapping-suggestions",
        mappings.MappingSuggestionsV2Api.as_view(),
        name="series-mapping-suggestions",
    ),
]
