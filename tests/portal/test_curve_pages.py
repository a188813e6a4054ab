"""The curve pages: the catalog, one curve's vintage (chart, table, compare, scrubber, lineage, history,
exports, copy as), and the largest moves. Real EUGP and RP workbooks through the real pipeline; acme licenses
both, globex only EUGP."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from tests.support.curves import D1, D2, D3, a_curve, parsed
from tests.support.lake import RP_DAYS


def _json_block(html: str, element_id: str) -> Any:
    """The chart spec of the element with ``element_id`` (its data-chart attribute)."""
    match = re.search(rf'id="{element_id}" data-chart="([^"]*)"', html)
    assert match is not None, element_id
    return json.loads(unescape(match.group(1)))


def _table_rows(html: str) -> list[dict[str, Any]]:
    """The curve table's rows: tenor and the exact (data-value) numbers of each column."""
    body = re.search(r'<table class="table" id="curve-table">.*?<tbody>(.*?)</tbody>', html, flags=re.S)
    assert body is not None
    rows = []
    for row in re.findall(r"<tr data-tenor=.*?</tr>", body.group(1), flags=re.S):
        tenor = re.search(r'data-tenor="([^"]+)"', row).group(1)  # type: ignore[union-attr]
        values = re.findall(r'data-value="([^"]*)"', row)
        rows.append({"tenor": tenor, "values": values})
    return rows


def _monthly_mids(vendor: str, day, curve_key: str) -> dict[str, float | None]:
    return {
        tenor: row["mid"]
        for (key, tenor), row in parsed(vendor, day).items()
        if key == curve_key and row["tenor_type"] == "MONTHLY"
    }


def test_the_catalog_lists_licensed_curves_with_last_asof_and_tenors(portal):
    from apps.curves.models import Curve

    response = portal("acme").get("/curves/")

    html = response.content.decode()
    assert response.status_code == 200
    total = Curve.objects.count()
    assert f"{total} curves" in html
    first = Curve.objects.order_by("location", "product", "block", "curve_key")[0]
    assert f'href="/curves/{first.curve_key}/?asof={first.last_asof:%Y-%m-%d}"' in html
    assert html.count('<tr><td><a href="/curves/') == 25  # paged by 25
    assert 'rel="next"' in html


def test_the_catalog_search_and_filters_narrow_the_list(portal):
    from apps.curves.models import Curve

    rp = Curve.objects.filter(dataset="vendor:RP")
    location = rp.order_by("location")[0].location
    expected = (
        rp.filter(location__icontains=location).count()
        + Curve.objects.filter(dataset="vendor:EUGP").filter(location__icontains=location).count()
    )

    both = portal("acme").get("/curves/", {"q": location, "dataset": "vendor:RP"}).content.decode()
    partial = portal("acme").get(
        "/curves/", {"q": location}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-results"
    )

    assert f"{rp.filter(location__icontains=location).count()} curve" in both
    assert "vendor:EUGP</span>" not in both
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()  # only the results fragment
    assert f"{expected} curve" in partial.content.decode()


def test_globex_never_sees_a_curve_it_does_not_license(portal):
    from apps.curves.models import Curve

    rp_curve = Curve.objects.filter(dataset="vendor:RP")[0]

    catalog = portal("globex").get("/curves/", {"dataset": "vendor:RP"}).content.decode()
    everything = portal("globex").get("/curves/").content.decode()
    page = portal("globex").get(f"/curves/{rp_curve.curve_key}/", {"asof": RP_DAYS[0].isoformat()})

    assert "No curve matches" in catalog
    assert "vendor:RP" not in everything
    assert page.status_code == 404
    assert "Page not found" in page.content.decode()
    for part in ("lineage", "history", "export"):
        sub = portal("globex").get(
            f"/curves/{rp_curve.curve_key}/{part}/", {"asof": RP_DAYS[0].isoformat(), "tenor": "2025-08"}
        )
        assert sub.status_code == 404, part


def test_a_curve_without_asof_redirects_to_its_latest_vintage(portal):
    curve_key = a_curve("EUGP", D3)

    response = portal().get(f"/curves/{curve_key}/")

    assert response.status_code == 302
    assert response["Location"] == f"/curves/{curve_key}/?asof={D3.isoformat()}"


def test_a_curve_page_shows_every_monthly_tenor_as_the_workbook_says(portal):
    curve_key = a_curve("EUGP", D3)
    expected = _monthly_mids("EUGP", D3, curve_key)

    html = portal().get(f"/curves/{curve_key}/", {"asof": D3.isoformat()}).content.decode()

    rows = _table_rows(html)
    assert [r["tenor"] for r in rows] == sorted(expected)
    assert {r["tenor"]: float(r["values"][0]) for r in rows} == pytest.approx(expected)
    chart = _json_block(html, "curve-chart")
    assert chart["x_labels"] == sorted(expected)
    mid = next(s for s in chart["series"] if s["role"] == "line")
    assert mid["values"] == pytest.approx([expected[t] for t in sorted(expected)])
    ghost = next(s for s in chart["series"] if s["role"] == "ghost")
    assert ghost["label"] == f"Previous {D2.isoformat()}"
    assert len(chart["point_links"]) == len(expected)


def test_a_curve_with_bid_and_ask_draws_the_band(portal):
    curve_key = a_curve("RP", RP_DAYS[1])
    quoted = {
        t: r
        for (k, t), r in parsed("RP", RP_DAYS[1]).items()
        if k == curve_key and r["tenor_type"] == "MONTHLY"
    }

    html = portal().get(f"/curves/{curve_key}/", {"asof": RP_DAYS[1].isoformat()}).content.decode()

    chart = _json_block(html, "curve-chart")
    roles = [s["role"] for s in chart["series"]]
    assert chart["bands"] == [[roles.index("ask"), roles.index("bid")]]
    rows = {r["tenor"]: r["values"] for r in _table_rows(html)}
    for tenor, row in quoted.items():
        assert float(rows[tenor][1]) == pytest.approx(row["bid"]), tenor
        assert float(rows[tenor][2]) == pytest.approx(row["ask"]), tenor


def test_comparing_two_vintages_shows_the_change_per_tenor(portal):
    curve_key = a_curve("EUGP", D3)
    new, old = _monthly_mids("EUGP", D3, curve_key), _monthly_mids("EUGP", D1, curve_key)

    html = (
        portal()
        .get(f"/curves/{curve_key}/", {"asof": D3.isoformat(), "compare": D1.isoformat()})
        .content.decode()
    )

    for row in _table_rows(html):
        tenor, values = row["tenor"], row["values"]
        before, after = old.get(tenor), new[tenor]
        if before is not None and after is not None:
            assert float(values[3]) == pytest.approx(before), tenor
            assert float(values[4]) == pytest.approx(after - before), tenor
    chart = _json_block(html, "curve-chart")
    assert [s["role"] for s in chart["series"]][-1] == "compare"
    assert f"asof_a={D1.isoformat()}" in html and f"asof_b={D3.isoformat()}" in html  # copy as: the diff call


def test_a_date_without_a_vintage_says_which_dates_exist(portal):
    curve_key = a_curve("EUGP", D3)

    missing = portal().get(f"/curves/{curve_key}/", {"asof": "2025-06-30"})
    malformed = portal().get(f"/curves/{curve_key}/", {"asof": "yesterday"})

    assert missing.status_code == 400
    assert f"Nearest: {D1.isoformat()}" in missing.content.decode()
    assert malformed.status_code == 400
    assert "Use a date like" in malformed.content.decode()
    # the problem page's way out reads as a sentence of its own (a space before the link)
    assert 'try again. <a href="/">Back to the start page</a>.' in malformed.content.decode()


def test_the_scrubber_re_renders_the_view_for_its_vintage_and_pushes_its_url(portal):
    curve_key = a_curve("EUGP", D3)

    response = portal().get(
        f"/curves/{curve_key}/", {"vintage": "0"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="curve-view"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert response["HX-Push-Url"] == f"/curves/{curve_key}/?asof={D1.isoformat()}"
    assert {r["tenor"]: float(r["values"][0]) for r in _table_rows(html)} == pytest.approx(
        {t: m for t, m in _monthly_mids("EUGP", D1, curve_key).items()}
    )


def test_a_points_lineage_names_the_file_sheet_run_and_checks(portal):
    curve_key = a_curve("EUGP", D3)
    tenor = sorted(_monthly_mids("EUGP", D3, curve_key))[2]
    sheet = parsed("EUGP", D3)[(curve_key, tenor)]["sheet_name"]

    page = portal().get(f"/curves/{curve_key}/lineage/", {"asof": D3.isoformat(), "tenor": tenor})
    fragment = portal().get(
        f"/curves/{curve_key}/lineage/", {"asof": D3.isoformat(), "tenor": tenor}, HTTP_HX_REQUEST="true"
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert f"EOD_EUGP_{D3:%Y%m%d}_1430.xlsx" in html
    assert sheet in html
    assert re.search(r'<code class="hash">[0-9a-f]{64}</code>', html)
    assert "badge-ok" in html  # checks passed
    assert "<html" not in fragment.content.decode()


def test_a_tenors_history_has_one_row_per_vintage(portal):
    curve_key = a_curve("EUGP", D3)
    tenor = sorted(_monthly_mids("EUGP", D3, curve_key))[3]

    html = portal().get(f"/curves/{curve_key}/history/", {"tenor": tenor}).content.decode()

    chart = _json_block(html, "history-chart")
    assert chart["x_labels"] == [D1.isoformat(), D2.isoformat(), D3.isoformat()]
    mids = next(s for s in chart["series"] if s["role"] == "line")["values"]
    assert mids == pytest.approx([_monthly_mids("EUGP", d, curve_key)[tenor] for d in (D1, D2, D3)])


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_the_export_holds_the_views_rows(portal, fmt):
    curve_key = a_curve("EUGP", D3)
    expected = _monthly_mids("EUGP", D3, curve_key)

    response = portal().get(f"/curves/{curve_key}/export/", {"asof": D3.isoformat(), "format": fmt})

    assert response.status_code == 200
    assert f"_{D3:%Y%m%d}.{fmt}" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
    elif fmt == "xlsx":
        header, *data = (
            CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_name("curves").to_python()
        )
        rows = [dict(zip(header, r, strict=True)) for r in data]
    else:
        rows = pq.read_table(io.BytesIO(body)).to_pylist()
    monthly = {r["tenor_label"]: float(r["mid"]) for r in rows if r["tenor_type"] == "MONTHLY"}
    assert monthly == pytest.approx(expected)
    assert {r["curve_key"] for r in rows} == {curve_key}


def test_the_movers_rank_the_largest_moves_and_link_to_the_compared_curve(portal):
    from apps.curves.models import Curve

    redirect = portal().get("/curves/movers/")
    assert redirect.status_code == 302
    assert (
        redirect["Location"]
        == f"/curves/movers/?asof_a={D2.isoformat()}&asof_b={D3.isoformat()}&top=20&by=abs"
    )

    html = portal().get(redirect["Location"]).content.decode()

    changes = [float(v) for v in re.findall(r'<td class="num (?:up|down)">\+?(-?[\d.]+)</td>', html)]
    assert len(changes) == 20
    assert [abs(c) for c in changes] == sorted((abs(c) for c in changes), reverse=True)
    key = re.search(r'<a href="/curves/([0-9a-f]{64})/\?asof=', html).group(1)  # type: ignore[union-attr]
    assert Curve.objects.filter(curve_key=key).exists()
    assert f"asof={D3.isoformat()}&amp;compare={D2.isoformat()}" in html
