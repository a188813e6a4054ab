"""The fundamentals feeds' routes for the suites over every route (``tests.support.routes`` adds them): the
isolation cases (market data licensed per provider: an object acme may not see is one that does not exist
or that its licence lacks), acme's own GET paths (the recorded fetches ``acme_objects_create`` loads) and the
list cases of ``tests/platform/test_list_routes.py`` as (path, kind, queries, limit, sizes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.world import World

RouteCase = tuple[str, str, Callable[[World], str]]
V1 = "api/v1/"
V2 = "api/v2/"
TILE = "drought/tiles/<str:dataset>/<str:index>/<str:timescale>/<int:z>/<int:x>/<int:y>.png"
INFO = "drought/info/<str:dataset>/<str:index>/<str:timescale>"
NO_RASTER = "nosuch/SPI/3M"

_V1_LISTS = (
    "iso/lmp/last-24h",
    "iso/lmp/hourly",
    "iso/lmp/daily",
    "iso/lmp/negative",
    "metadata/eia/datasets",
    "ref/eia/series",
    "ref/eia/series/dimensions",
    "external/providers",
    "external/series",
    "metadata/external",
    "drought/dimensions",
    "drought/indices",
    "drought/usdm",
)
_V2_LISTS = ("series", "iso/lmp", "iso/lmp/aggregates", "eia/datasets", "drought/usdm", "drought/indices")


def fixed(path: str) -> Callable[[Any], str]:
    """A case's path that names no object of its own (acme's objects are not needed)."""
    return lambda objects: path


FEED_ROUTES: list[RouteCase] = [
    *((V1 + p, "get", fixed(f"/{V1}{p}")) for p in _V1_LISTS),
    *((V2 + p, "get", fixed(f"/{V2}{p}")) for p in _V2_LISTS),
    (
        V1 + "metadata/eia/datasets/<path:dataset_path>",
        "get",
        lambda w: f"/{V1}metadata/eia/datasets/no/such",
    ),
    (
        V1 + "external/series/<str:series_id>/observations",
        "get",
        lambda w: f"/{V1}external/series/FRED:NO_SUCH/observations",
    ),
    (V1 + INFO, "get", lambda w: f"/{V1}drought/info/{NO_RASTER}?valid_date=2024-01-09"),
    (V1 + TILE, "get", lambda w: f"/{V1}drought/tiles/{NO_RASTER}/4/3/5.png?valid_date=2024-01-09"),
    (V2 + "series/<str:series_id>", "get", lambda w: f"/{V2}series/FRED:NO_SUCH"),
    (V2 + "series/<str:series_id>/observations", "get", lambda w: f"/{V2}series/FRED:NO_SUCH/observations"),
    (V2 + "eia/datasets/<path:dataset_path>", "get", lambda w: f"/{V2}eia/datasets/no/such"),
]
# Series-curve mappings: shared metadata every member reads; writes are the operators' (403 for acme).
MAPPING_BODY = {"external_provider": "FRED", "external_series_id": "NO_SUCH", "curve_key": "NO_SUCH_CURVE"}
NO_SERIES = "external_provider=FRED&external_series_id=NO_SUCH"
MAPPING_ROUTES: list[tuple[str, str, Callable[[World], str], dict[str, Any] | None, tuple[int, ...]]] = [
    (V1 + "admin/mappings", "get", fixed(f"/{V1}admin/mappings"), None, (200,)),
    (V1 + "admin/mappings", "post", fixed(f"/{V1}admin/mappings"), MAPPING_BODY, (403,)),
    (V1 + "admin/mappings/search", "get", fixed(f"/{V1}admin/mappings/search?{NO_SERIES}"), None, (404,)),
    (
        V1 + "admin/mappings/<str:provider>/<str:series_id>",
        "put",
        fixed(f"/{V1}admin/mappings/FRED/NO_SUCH"),
        {"mapping_confidence": 0.5},
        (404,),
    ),
    (
        V1 + "admin/mappings/<str:provider>/<str:series_id>",
        "delete",
        fixed(f"/{V1}admin/mappings/FRED/NO_SUCH"),
        None,
        (404,),
    ),
    (V2 + "series-curve-mappings", "get", fixed(f"/{V2}series-curve-mappings"), None, (200,)),
    (V2 + "series-curve-mappings", "post", fixed(f"/{V2}series-curve-mappings"), MAPPING_BODY, (403,)),
    (
        V2 + "series-curve-mappings/<int:mapping_id>",
        "put",
        fixed(f"/{V2}series-curve-mappings/987654"),
        {"mapping_confidence": 0.5},
        (404,),
    ),
    (
        V2 + "series-curve-mappings/<int:mapping_id>",
        "delete",
        fixed(f"/{V2}series-curve-mappings/987654"),
        None,
        (404,),
    ),
    (
        V2 + "series-mapping-suggestions",
        "get",
        fixed(f"/{V2}series-mapping-suggestions?{NO_SERIES}"),
        None,
        (404,),
    ),
]

_OWN: dict[str, str] = {
    "iso/lmp/last-24h": "iso/lmp/last-24h?iso_code=CAISO",
    "iso/lmp/hourly": "iso/lmp/hourly?iso_code=CAISO",
    "iso/lmp/daily": "iso/lmp/daily?iso_code=CAISO",
    "iso/lmp/negative": "iso/lmp/negative",
    "metadata/eia/datasets": "metadata/eia/datasets?prefix=natural-gas/pri",
    "metadata/eia/datasets/<path:dataset_path>": "metadata/eia/datasets/natural-gas/pri/fut",
    "ref/eia/series": "ref/eia/series?series_id=NG.RNGWHHD.D",
    "ref/eia/series/dimensions": "ref/eia/series/dimensions",
    "external/providers": "external/providers",
    "external/series": "external/series?provider=FRED",
    "external/series/<str:series_id>/observations": "external/series/FRED:DGS10/observations",
    "metadata/external": "metadata/external?include_counts=true",
    "drought/dimensions": "drought/dimensions",
    "drought/indices": "drought/indices?index=SPI",
    "drought/usdm": "drought/usdm",
    INFO: "drought/info/nclimgrid/SPI/3M?valid_date=2024-01-09",
    TILE: "drought/tiles/nclimgrid/SPI/3M/4/3/5.png?valid_date=2024-01-09",
}
_OWN_V2: dict[str, str] = {
    "series": "series?provider=FRED",
    "series/<str:series_id>": "series/FRED:DGS10",
    "series/<str:series_id>/observations": "series/FRED:DGS10/observations",
    "iso/lmp": "iso/lmp?iso_code=CAISO",
    "iso/lmp/aggregates": "iso/lmp/aggregates?iso_code=CAISO",
    "eia/datasets": "eia/datasets?prefix=natural-gas/pri",
    "eia/datasets/<path:dataset_path>": "eia/datasets/natural-gas/pri/fut",
    "drought/usdm": "drought/usdm",
    "drought/indices": "drought/indices",
}
DGS10 = "external_provider=FRED&external_series_id=DGS10"
FEED_GET_PATHS: dict[str, Callable[[Any], str]] = {
    **{V1 + pattern: fixed(f"/{V1}{path}") for pattern, path in _OWN.items()},
    **{V2 + pattern: fixed(f"/{V2}{path}") for pattern, path in _OWN_V2.items()},
    V1 + "admin/mappings": fixed(f"/{V1}admin/mappings"),
    V1 + "admin/mappings/search": fixed(f"/{V1}admin/mappings/search?{DGS10}"),
    V2 + "series-curve-mappings": fixed(f"/{V2}series-curve-mappings"),
    V2 + "series-mapping-suggestions": fixed(f"/{V2}series-mapping-suggestions?{DGS10}"),
}
# Drought tiles answer 501 (no raster source) where every other GET route answers acme 200.
OWN_GET_STATUS = {
    V1 + TILE: 501,
    "v1/" + TILE: 501,
    # Backfills are the platform operators' (apps/datasets): a customer is refused the list, sees no backfill.
    "api/v2/backfills": 403,
    "api/v2/backfills/<int:backfill_id>": 404,
    "api/v2/feeds/quarantine": 403,
    "api/v2/ingest/quarantine": 403,  # vendor rows' review: the operators' too (decision 0041)
}

# (path, kind, queries, limit, sizes): 1 query authenticates (decision 0057) and reads the tenant's
# entitlements with the token, then the catalog page (or the series, or the provider counts) where there is
# one, and 1 per lakehouse table read (the Iceberg catalog's pointer to the table's metadata).
FEED_LIST_CASES: dict[str, tuple[str, str, int, int, tuple[str, str]]] = {
    V1 + "iso/lmp/last-24h": (f"/{V1}" + _OWN["iso/lmp/last-24h"], "whole", 2, 2, ("limit=1", "")),
    V1 + "iso/lmp/hourly": (f"/{V1}" + _OWN["iso/lmp/hourly"], "whole", 2, 2, ("limit=1", "")),
    V1 + "iso/lmp/daily": (f"/{V1}" + _OWN["iso/lmp/daily"], "whole", 2, 2, ("limit=1", "")),
    V1 + "iso/lmp/negative": (f"/{V1}" + _OWN["iso/lmp/negative"], "whole", 2, 2, ("", "")),
    V1 + "metadata/eia/datasets": (
        f"/{V1}" + _OWN["metadata/eia/datasets"],
        "whole",
        2,
        2,
        ("prefix=natural-gas/pri/fut", ""),
    ),
    V1 + "ref/eia/series": (f"/{V1}" + _OWN["ref/eia/series"], "v1", 2, 2, ("", "")),
    V1 + "external/providers": (f"/{V1}" + _OWN["external/providers"], "v1", 2, 2, ("", "")),
    V1 + "external/series": (f"/{V1}" + _OWN["external/series"], "v1", 3, 2, ("", "")),
    V1 + "external/series/<str:series_id>/observations": (
        f"/{V1}" + _OWN["external/series/<str:series_id>/observations"],
        "v1",
        3,
        2,
        ("", ""),
    ),
    V1 + "drought/indices": (f"/{V1}" + _OWN["drought/indices"], "whole", 2, 2, ("limit=1", "")),
    V1 + "drought/usdm": (f"/{V1}" + _OWN["drought/usdm"], "whole", 2, 2, ("limit=1", "")),
    V2 + "series": (f"/{V2}" + _OWN_V2["series"], "v2", 2, 2, ("", "")),
    V2 + "series/<str:series_id>/observations": (
        f"/{V2}" + _OWN_V2["series/<str:series_id>/observations"],
        "v2",
        3,
        2,
        ("", ""),
    ),
    V2 + "iso/lmp": (f"/{V2}" + _OWN_V2["iso/lmp"], "v2", 2, 2, ("", "")),
    V2 + "iso/lmp/aggregates": (f"/{V2}" + _OWN_V2["iso/lmp/aggregates"], "v2", 2, 2, ("", "")),
    V2 + "eia/datasets": (f"/{V2}" + _OWN_V2["eia/datasets"], "v2", 2, 2, ("", "")),
    V2 + "drought/usdm": (f"/{V2}" + _OWN_V2["drought/usdm"], "v2", 2, 2, ("", "")),
    V2 + "drought/indices": (f"/{V2}" + _OWN_V2["drought/indices"], "v2", 2, 2, ("", "")),
}
