"""The datasets Aurum fetches, per provider (the original's JSON dataset configs, in code): what a fetch of
(provider, dataset, window) asks for, and the licence code a tenant needs to read it (decision 0029).

A later scheduler (publication calendars) and backfills iterate these with windows; nothing here runs.
"""

from __future__ import annotations

from types import ModuleType

from apps.feeds.adapters import caiso, eia, ercot, fred, miso, noaa, pjm, usdm
from apps.feeds.adapters.base import FeedDataset
from aurum.errors import NotFoundError

ADAPTERS: dict[str, ModuleType] = {
    "EIA": eia,
    "FRED": fred,
    "NOAA": noaa,
    "CAISO": caiso,
    "MISO": miso,
    "PJM": pjm,
    "ERCOT": ercot,
    "USDM": usdm,
}
# Licence codes (Plan.datasets / Entitlement.dataset), like the curves' "vendor:EUGP".
LICENCES = {
    "EIA": "feed:eia",
    "FRED": "feed:fred",
    "NOAA": "feed:noaa",
    "CAISO": "iso:caiso",
    "MISO": "iso:miso",
    "PJM": "iso:pjm",
    "ERCOT": "iso:ercot",
    "USDM": "feed:drought",
}
SERIES_PROVIDERS = ("EIA", "FRED", "NOAA")
ISO_PROVIDERS = ("CAISO", "MISO", "PJM", "ERCOT")
PJM_NODES = ("51290", "51192")  # AECO 230KV and PECO_ROOSEVELT in the original's node registry
ERCOT_POINTS = ("HB_HOUSTON", "HB_NORTH")
PROVIDER_INFO = {
    "EIA": (
        "U.S. Energy Information Administration",
        "Energy statistics: prices, production, storage",
        eia.BASE_URL,
    ),
    "FRED": (
        "Federal Reserve Economic Data",
        "Economic series of the St. Louis Fed: rates, prices, labour",
        fred.BASE_URL,
    ),
    "NOAA": ("NOAA NCEI Climate Data Online", "Daily weather observations (GHCND)", noaa.BASE_URL),
}
FRED_SERIES = ("DGS10", "CPIAUCSL", "UNRATE", "FEDFUNDS", "GDP")
NOAA_STATIONS = (
    "GHCND:USW00094728",
    "GHCND:USW00023174",
    "GHCND:USW00012842",
    "GHCND:USW00023188",
    "GHCND:USW00013874",
    "GHCND:USW00014898",
    "GHCND:USW00014933",
    "GHCND:USW00093230",
    "GHCND:USW00003927",
    "GHCND:USW00012960",
)

DATASETS: dict[tuple[str, str], FeedDataset] = {
    ("EIA", "natural-gas/pri/fut"): FeedDataset(
        "EIA",
        "natural-gas/pri/fut",
        "series",
        {
            "route": "natural-gas/pri/fut",
            "frequency": "daily",
            "facets": {"series": ["RNGWHHD"]},
            "series_id": "NG.{series}.D",
        },
    ),
    **{
        ("FRED", series): FeedDataset("FRED", series, "series", {"series_id": series})
        for series in FRED_SERIES
    },
    ("NOAA", "GHCND"): FeedDataset(
        "NOAA",
        "GHCND",
        "series",
        {"datasetid": "GHCND", "stations": list(NOAA_STATIONS), "datatypes": ["TMAX", "TMIN", "PRCP"]},
    ),
    ("CAISO", "PRC_LMP:DAM"): FeedDataset(
        "CAISO", "PRC_LMP:DAM", "lmp", {"market_run_id": "DAM", "market": "DAY_AHEAD"}
    ),
    ("MISO", "LMP:RT"): FeedDataset("MISO", "LMP:RT", "lmp", {"market": "REAL_TIME"}),
    ("PJM", "da_hrl_lmps"): FeedDataset(
        "PJM",
        "da_hrl_lmps",
        "lmp",
        {"feed": "da_hrl_lmps", "suffix": "da", "market": "DAY_AHEAD", "nodes": list(PJM_NODES)},
    ),
    ("PJM", "rt_hrl_lmps"): FeedDataset(
        "PJM",
        "rt_hrl_lmps",
        "lmp",
        {"feed": "rt_hrl_lmps", "suffix": "rt", "market": "REAL_TIME", "nodes": list(PJM_NODES)},
    ),
    ("PJM", "rt_unverified_fivemin_lmps"): FeedDataset(
        "PJM",
        "rt_unverified_fivemin_lmps",
        "lmp",
        {
            "feed": "rt_unverified_fivemin_lmps",
            "suffix": "rt",
            "market": "FIVE_MINUTE",
            "interval_minutes": 5,
            "nodes": list(PJM_NODES),
            "current_only": False,  # this feed has no row_is_current filter
        },
    ),
    ("ERCOT", "np4-190-cd/dam_stlmnt_pnt_prices"): FeedDataset(
        "ERCOT",
        "np4-190-cd/dam_stlmnt_pnt_prices",
        "lmp",
        {
            "report": "np4-190-cd/dam_stlmnt_pnt_prices",
            "market": "DAY_AHEAD",
            "interval_minutes": 60,
            "points": list(ERCOT_POINTS),
        },
    ),
    ("ERCOT", "np6-905-cd/spp_node_zone_hub"): FeedDataset(
        "ERCOT",
        "np6-905-cd/spp_node_zone_hub",
        "lmp",
        {
            "report": "np6-905-cd/spp_node_zone_hub",
            "market": "REAL_TIME",
            "interval_minutes": 15,
            "points": list(ERCOT_POINTS),
        },
    ),
    ("USDM", "StateStatistics"): FeedDataset("USDM", "StateStatistics", "usdm", {"aoi": ["CA", "TX"]}),
}


def feed_dataset_get(*, provider: str, dataset: str) -> FeedDataset:
    found = DATASETS.get((provider.upper(), dataset))
    if found is None:
        raise NotFoundError(f"No feed dataset {provider}/{dataset}.")
    return found


def licensed_providers(datasets: frozenset[str], providers: tuple[str, ...]) -> tuple[str, ...]:
    """The providers of ``providers`` whose licence code is among the tenant's ``datasets``."""
    return tuple(p for p in providers if LICENCES[p] in datasets)
