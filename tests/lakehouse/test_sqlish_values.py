"""Filter values that read like SQL are only values: through the HTTP API, over a real ingest into a private
lakehouse (Iceberg, DuckDB), a location holding ``FROM "obs"``, quotes, ``--`` or ``;`` selects exactly the
rows of its curves, on the latest table and on the vintages.

The engine used to put a scan's files into the SQL by replacing the text ``FROM "obs"``, so such a value was
rewritten too (and the read failed or matched nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lake import private_lake
from tests.support.workbooks import ASOF, eugp_workbook

# An EUGP workbook's Product row becomes the curve's location.
LOCATIONS = ('x FROM "obs" y', "O'Hare -- hub; DROP TABLE obs; --")
TENORS = ["2025-09", "2025-10", "2025-11"]


@pytest.mark.parametrize("vintage", [{}, {"asof": ASOF.isoformat()}], ids=["latest", "asof"])
def test_a_sql_ish_location_selects_exactly_its_curves_rows(api, committed_world, tmp_path, vintage):
    data = eugp_workbook(locations=("EU", "EU"), products=LOCATIONS)
    with private_lake(tmp_path, []) as lake:
        lake.ingest(Path(f"EOD_EUGP_{ASOF:%Y%m%d}_1430.xlsx"), data=data)

        pages = [
            api.get(
                "/api/v2/curves",
                {"location": location, "tenor_type": "MONTHLY", **vintage},
                **committed_world.acme.auth("viewer"),
            )
            for location in LOCATIONS
        ]

    assert [page.status_code for page in pages] == [200, 200]
    rows = [page.json()["data"] for page in pages]
    assert [[(row["tenor_label"], row["mid"]) for row in page] for page in rows] == [
        list(zip(TENORS, [30.0, 30.1, 30.2], strict=True)),
        list(zip(TENORS, [31.0, 31.1, 31.2], strict=True)),
    ]
    assert len({row["curve_key"] for row in rows[0]}) == len({row["curve_key"] for row in rows[1]}) == 1
    assert rows[0][0]["curve_key"] != rows[1][0]["curve_key"]
