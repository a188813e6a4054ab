"""An analyst works with curves in a real browser against the live server: catalog search, a curve whose chart
and table say what the workbook says, another vintage overlaid, the scrubber, lineage, history, exports that
open. Every page is photographed under var/screenshots/ at 1280 px and 390 px, with no console error."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.cells import sheet_cells
from tests.support.curves import D1, D2, D3, a_curve, parsed
from tests.support.lake import EUGP_DAYS, RP_DAYS, Lake, eod, private_lake
from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as _sign_in

pytestmark = [pytest.mark.live, pytest.mark.django_db]


@pytest.fixture(scope="module")
def lake(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lake]:
    files = [eod("EUGP", d) for d in EUGP_DAYS] + [eod("RP", d) for d in RP_DAYS]
    with django_db_blocker.unblock(), private_lake(tmp_path_factory.mktemp("lake"), files) as private:
        yield private


def _wait(browser: Any, condition: Any, timeout: float = 10) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def _chart_ready(browser: Any, selector: str = "#curve-view [data-chart]") -> None:
    _wait(
        browser,
        lambda b: b.execute_script(
            f"var e=document.querySelector('{selector}'); return !!(e && e._aurumPlot)"
        ),
    )


def _table(browser: Any) -> dict[str, list[float | None]]:
    """The curve table: tenor -> the exact numbers of its cells (data-value), None for a blank."""
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#curve-table tbody tr[data-tenor]'))"
        ".map(function (tr) {"
        " return [tr.dataset.tenor, Array.from(tr.querySelectorAll('[data-value]')).map(function (td) {"
        " return td.dataset.value; })]; });"
    )
    return {tenor: [None if v == "None" else float(v) for v in values] for tenor, values in rows}


def _wider_than_a_phone(browser: Any) -> list[str]:
    """Elements that stick out of a 390 px wide page (the page would scroll sideways)."""
    browser.set_window_size(390, 844)
    try:
        return browser.execute_script(
            "var w = document.documentElement.clientWidth; var out = [];"
            "document.querySelectorAll('body *').forEach(function (e) {"
            " if (e.closest('.table-wrap')) return;"  # tables scroll inside their own box
            " var r = e.getBoundingClientRect(); if (r.right > w + 1 && e.offsetParent !== null)"
            " out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); });"
            "return document.documentElement.scrollWidth > w ? out.slice(0, 8) : [];"
        )
    finally:
        browser.set_window_size(1280, 900)


def _assert_clean_console(browser: Any, page: str) -> None:
    assert console_errors(browser) == [], page


def test_an_analyst_finds_a_curve_and_reads_what_the_workbook_says(
    lake, committed_world, asgi_server, browser, tmp_path
):
    acme = f"http://acme.localhost:{asgi_server.port}"
    member = committed_world.acme.members["analyst"]
    curve_key = a_curve("EUGP", D3)
    quoted = {
        t: r for (k, t), r in parsed("EUGP", D3).items() if k == curve_key and r["tenor_type"] == "MONTHLY"
    }
    sample = next(iter(quoted.values()))

    console_errors(browser)  # what earlier tests left in the log
    _sign_in(browser, acme, member.email, member.password)
    assert browser.current_url == acme + "/"
    assert "vendor:EUGP" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "home")
    _assert_clean_console(browser, "home")

    # The catalog: type-ahead search narrows the list without a page load.
    browser.find_element(By.LINK_TEXT, "Curves").click()
    _wait(browser, ec.presence_of_element_located((By.ID, "catalog-results")))
    screenshot(browser, "catalog")
    search = browser.find_element(By.ID, "id_q")
    search.send_keys(f"{sample['location']} {sample['product']}")
    link = _wait(
        browser,
        ec.element_to_be_clickable((By.CSS_SELECTOR, f"#catalog-results a[href^='/curves/{curve_key}/']")),
    )
    assert "?q=" in browser.current_url  # the search is in the URL
    screenshot(browser, "catalog-search")
    _assert_clean_console(browser, "catalog")

    # The curve: one chart point per tenor, and the table's numbers are the workbook's cells.
    link.click()
    _wait(browser, ec.url_contains(f"/curves/{curve_key}/?asof={D3.isoformat()}"))
    _chart_ready(browser)
    points = browser.execute_script(
        "return document.querySelector('#curve-view [data-chart]')._aurumPlot.data[0].length"
    )
    table = _table(browser)
    assert points == len(table) == len(quoted)
    # The x axis centres the last tenor's label on the plot's right edge: the chart leaves it room.
    right_gap, last_label = browser.execute_script(
        "var el = document.querySelector('#curve-view [data-chart]'), p = el._aurumPlot;"
        "var labels = JSON.parse(el.getAttribute('data-chart')).x_labels;"
        "var right = (p.bbox.left + p.bbox.width) / devicePixelRatio;"
        "return [p.width - right, String(labels[labels.length - 1])];"
    )
    assert right_gap >= min(64, 4 * len(last_label)) - 1, (right_gap, last_label)
    cells = {
        round(v, 9) for _, _, v in sheet_cells(eod("EUGP", D3), sample["sheet_name"]) if isinstance(v, float)
    }
    mids = {tenor: values[0] for tenor, values in table.items()}
    assert all(m is not None and round(m, 9) in cells for m in mids.values())
    assert mids == pytest.approx({t: r["mid"] for t, r in quoted.items()})
    screenshot(browser, "curve")
    _assert_clean_console(browser, "curve")
    assert _wider_than_a_phone(browser) == []
    dark = [{"name": "prefers-color-scheme", "value": "dark"}]
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": dark})
    try:
        background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 20, 27)"  # --bg of the dark scheme
        _wait(
            browser,
            lambda b: b.execute_script("return document.querySelector('#curve-view .u-over') !== null"),
        )
        screenshot(browser, "curve-dark")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    # Clicking a point of the chart shows its lineage.
    for attempt in range(3):  # the chart is redrawn when the colour scheme changes back: find it afresh
        try:
            over = browser.find_element(By.CSS_SELECTOR, "#curve-view .u-over")
            x, y, width, height = browser.execute_script(
                "var p=document.querySelector('#curve-view [data-chart]')._aurumPlot; var i=3;"
                "var s=p.series.findIndex(function (s) { return s.label.indexOf('Mid') === 0; });"
                "return [p.valToPos(i,'x'), p.valToPos(p.data[s][i],'y'), p.over.clientWidth,"
                " p.over.clientHeight];"
            )
            ActionChains(browser).move_to_element_with_offset(
                over, int(x - width / 2), int(y - height / 2)
            ).click().perform()
            break
        except StaleElementReferenceException:
            if attempt == 2:
                raise
            time.sleep(0.2)
    third = sorted(quoted)[3]
    _wait(browser, ec.text_to_be_present_in_element((By.ID, "lineage"), f"{third} on {D3.isoformat()}"))
    assert f"EOD_EUGP_{D3:%Y%m%d}_1430.xlsx" in browser.find_element(By.ID, "lineage").text

    # Overlay another vintage: the URL names it, the table gains its mid and the change.
    Select(browser.find_element(By.ID, "id_compare")).select_by_value(D1.isoformat())
    _wait(browser, ec.url_contains(f"compare={D1.isoformat()}"))
    _wait(browser, ec.text_to_be_present_in_element((By.ID, "curve-table"), f"Mid {D1.isoformat()}"))
    _chart_ready(browser)
    old = {
        t: r["mid"]
        for (k, t), r in parsed("EUGP", D1).items()
        if k == curve_key and r["tenor_type"] == "MONTHLY"
    }
    for tenor, values in _table(browser).items():
        if old.get(tenor) is not None and values[0] is not None:
            assert values[3] == pytest.approx(old[tenor]) and values[4] == pytest.approx(
                values[0] - old[tenor]
            )
    screenshot(browser, "curve-compare")

    # A tenor's history, loaded into its panel; the URL keeps the tenor.
    browser.find_element(
        By.CSS_SELECTOR, f"tr[data-tenor='{third}'] a[href*='tenor=']:not([href*='lineage'])"
    ).click()
    _chart_ready(browser, "#history [data-chart]")
    assert (
        browser.execute_script(
            "return document.querySelector('#history [data-chart]')._aurumPlot.data[0].length"
        )
        == 3
    )

    # The scrubber: one step back re-renders the view for the previous vintage and names it in the URL.
    scrubber = browser.find_element(By.ID, "vintage-scrubber")
    scrubber.send_keys(Keys.ARROW_LEFT)
    _wait(browser, ec.url_contains(f"asof={D2.isoformat()}"))
    assert browser.find_element(By.ID, "vintage-output").text == D2.isoformat()
    _wait(
        browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#curve-table caption"), D2.isoformat())
    )
    screenshot(browser, "curve-scrubbed")
    _assert_clean_console(browser, "curve interactions")

    # Exports download files that open.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    for fmt in ("csv", "xlsx", "parquet"):
        menu = browser.find_element(By.XPATH, "//summary[text()='Export']")
        if menu.find_element(By.XPATH, "..").get_attribute("open") is None:
            menu.click()
        browser.find_element(By.CSS_SELECTOR, f"a[data-export='{fmt}']").click()
        path = _downloaded(downloads, fmt)
        rows = _rows(path, fmt)
        assert {r["curve_key"] for r in rows} == {curve_key}, fmt
        assert {str(r["asof_date"])[:10] for r in rows} == {D2.isoformat(), D1.isoformat()}, fmt

    browser.get(f"{acme}/curves/movers/")
    _wait(browser, ec.url_contains("asof_a="))
    screenshot(browser, "movers")
    browser.get(f"{acme}/curves/{curve_key}/lineage/?asof={D3.isoformat()}&tenor={third}")
    screenshot(browser, "lineage")
    _assert_clean_console(browser, "movers and lineage")


def _downloaded(folder: Path, fmt: str) -> Path:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*.{fmt}")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {fmt} download in {sorted(folder.iterdir())}")


def _rows(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(path.read_text())))
    if fmt == "xlsx":
        header, *data = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("curves").to_python()
        return [dict(zip(map(str, header), row, strict=True)) for row in data]
    return pq.read_table(path).to_pylist()


def test_a_viewer_has_no_settings_and_globex_never_sees_an_unlicensed_curve(
    lake, committed_world, asgi_server, browser
):
    from apps.curves.models import Curve

    acme = f"http://acme.localhost:{asgi_server.port}"
    globex = f"http://globex.localhost:{asgi_server.port}"
    viewer = committed_world.acme.members["viewer"]
    rp_curve = Curve.objects.filter(dataset="vendor:RP").values_list("curve_key", flat=True)[0]

    _sign_in(browser, acme, viewer.email, viewer.password)
    nav = browser.find_element(By.ID, "site-nav").text
    assert "Curves" in nav and "Settings" not in nav
    screenshot(browser, "home-viewer")

    member = committed_world.globex.members["analyst"]
    _sign_in(browser, globex, member.email, member.password)
    browser.get(f"{globex}/curves/{rp_curve}/?asof={RP_DAYS[0].isoformat()}")
    assert "Page not found" in browser.find_element(By.TAG_NAME, "h1").text
    screenshot(browser, "not-found")
    browser.get(f"{globex}/curves/?dataset=vendor:RP")
    assert "No curve matches" in browser.find_element(By.ID, "catalog-results").text
    console_errors(browser)  # the 404 page's own status is logged as a failed load: expected


def test_the_navigation_collapses_on_a_phone_and_opens_with_its_button(
    lake, committed_world, asgi_server, browser
):
    acme = f"http://acme.localhost:{asgi_server.port}"
    member = committed_world.acme.members["analyst"]
    _sign_in(browser, acme, member.email, member.password)

    browser.set_window_size(390, 844)
    try:
        toggle = browser.find_element(By.CSS_SELECTOR, ".nav-toggle")
        assert toggle.is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "#site-nav a[href='/curves/']").is_displayed()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert browser.find_element(By.CSS_SELECTOR, "#site-nav a[href='/curves/']").is_displayed()
        screenshot(browser, "phone-menu-open")
    finally:
        browser.set_window_size(1280, 900)
