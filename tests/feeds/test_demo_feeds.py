"""The demo's fundamentals without ../shared: the catalog copy beside the recordings and every recorded
fetch, so the demo's /v1/external/series and /v1/iso/lmp answer data."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def test_the_demo_loads_the_feeds_without_the_shared_fixtures(feed_lake: Any, tmp_path: Path) -> None:
    from apps.feeds.models import EiaDataset, FetchRun, Series
    from aurum.devstack.demo.feeds import demo_feeds_load

    out = io.StringIO()
    loaded = demo_feeds_load(catalog_dir=tmp_path / "absent", stdout=out)

    # EIA 5 rows, FRED 5, NOAA 6, CAISO 5, MISO 2 + 1, PJM 50 + 6 + 6, ERCOT 50 + 16, USDM 3
    assert loaded == 12
    assert out.getvalue() == "Feeds: 12 of 12 recorded fetches loaded (155 rows)\n"
    assert set(FetchRun.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Series.objects.filter(provider="FRED").count() == 5
    assert EiaDataset.objects.filter(path="natural-gas/pri/fut").exists()
