"""The demo's fundamentals: the series catalog and the recorded provider responses replayed through the real
adapters (``apps.feeds.recorded``), so /v1/external/series, /v1/iso/lmp/* and friends answer data without
network or API keys. The original's catalog files are used when ``../shared/fixtures`` exists, else the copy
beside the recordings."""

from pathlib import Path
from typing import TextIO

from apps.feeds.recorded import recorded_load

FEED_DATASETS = [
    "feed:eia",
    "feed:fred",
    "feed:noaa",
    "iso:caiso",
    "iso:miso",
    "iso:pjm",
    "iso:ercot",
    "feed:drought",
]


def demo_feeds_load(*, catalog_dir: Path, stdout: TextIO) -> int:
    """Load the catalog and replay every recorded fetch; the number of fetches that succeeded."""
    runs = recorded_load(catalog_dir=catalog_dir)
    done = [run for run in runs if run is not None and run.status == "succeeded"]
    stdout.write(
        f"Feeds: {len(done)} of {len(runs)} recorded fetches loaded ({sum(r.rows for r in done)} rows)\n"
    )
    return len(done)
