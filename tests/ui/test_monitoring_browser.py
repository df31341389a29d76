"""The monitoring pages in a real headless Chromium (screenshots ``29-*``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ui.seed_models import MODEL
from tests.ui.seed_monitoring import ALERTS, LATEST_DRIFTED, WINDOWS

Shot = Callable[[Any, str], Path]

READY = "document.documentElement.dataset.monitoringChartsReady === 'true'"


def open_model_view(page: Any, ui_url: str) -> None:
    page.goto(f"{ui_url}/models/{MODEL}")
    page.locator("#monitoring-link").click()
    page.wait_for_url(f"**/monitoring?model={MODEL}")
    page.wait_for_function(READY)


def test_drift_and_quality_over_time_draw(page: Any, ui_url: str, shot: Shot) -> None:
    open_model_view(page, ui_url)
    assert page.locator("#drift-chart canvas").count() == 1
    drawn = page.evaluate(
        """() => window.shipyardMonitoringCharts.map((u) => ({
            key: u.shipyardKey,
            points: u.data[1].filter((v) => v !== null).length,
            markers: u.data[u.data.length - 1].filter((v) => v !== null).length,
            width: u.width,
        }))"""
    )
    drifted = sum(w.status.startswith("drift") for w in WINDOWS)
    scored = sum(w.wrong is not None for w in WINDOWS)
    assert drawn[0] == {
        "key": "drift",
        "points": len(WINDOWS),
        "markers": drifted,
        "width": drawn[0]["width"],
    }
    assert drawn[0]["width"] > 600
    assert [(d["key"], d["points"], d["markers"]) for d in drawn[1:]] == [
        ("quality:accuracy", scored, 1),
        ("quality:f1_macro", scored, 1),
    ]
    # With the chart drawn, its numbers fold away; one click opens them.
    assert not page.locator("#drift-table").is_visible()
    page.locator("#drift-details summary").click()
    assert page.locator("#drift-table tbody tr").count() == len(WINDOWS)
    page.locator("#drift-details summary").click()
    transitions = page.locator("#alerts-table tbody tr")
    assert transitions.count() == len(ALERTS)
    first = transitions.first
    assert first.get_attribute("data-from") == "ok" and first.get_attribute("data-to") == "drift"
    assert "OK → Drift" in " ".join(first.locator("td.change").inner_text().split())
    shot(page, "29-monitoring")


def test_a_click_on_the_chart_opens_that_report(page: Any, ui_url: str) -> None:
    open_model_view(page, ui_url)
    x, y = page.evaluate(
        """() => {
            const u = window.shipyardMonitoringCharts[0];
            const i = u.data[0].length - 3;  // inside the plot: the last two sit on its edges
            const box = u.over.getBoundingClientRect();
            const x = box.left + u.valToPos(u.data[0][i], "x");
            return [x, box.top + u.valToPos(u.data[1][i], "y")];
        }"""
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_url("**/monitoring/reports/**")
    assert page.locator("h1 [data-status]").get_attribute("data-status") == WINDOWS[-3].status


def test_report_lists_drifted_columns_first_with_histograms(
    page: Any, ui_url: str, shot: Shot
) -> None:
    open_model_view(page, ui_url)
    page.locator("#reports-table tbody tr a[href^='/monitoring/reports/']").first.click()
    page.wait_for_url("**/monitoring/reports/**")
    names = page.locator("#columns-table tbody tr").evaluate_all(
        "rows => rows.map((row) => [row.dataset.column, row.classList.contains('drifted')])"
    )
    assert names == [[c, True] for c in LATEST_DRIFTED] + [["ink_share", False]]
    charts = page.locator("#distributions svg.hist")
    assert charts.count() == len(names)
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 90
    bars = charts.first.locator("rect.hist-current")
    heights = bars.evaluate_all("bars => bars.map((bar) => bar.getBBox().height)")
    assert len(heights) > 1 and max(heights) > 10
    assert page.locator("#alert-notice").is_visible()
    frame = page.frame_locator("iframe.report-frame")
    assert frame.locator("h1").inner_text() == f"Monitoring report: models:/{MODEL}@production"
    shot(page, "29-monitoring-report")
    # Keyboard: a column's link moves to its chart.
    page.locator("#columns-table tbody tr").nth(3).locator("th a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**#column-*")
    target = page.evaluate("() => document.querySelector(':target').dataset.column")
    assert target == LATEST_DRIFTED[3]


def test_monitoring_dark_and_without_javascript(
    new_page: Callable[..., Any], ui_url: str, shot: Shot
) -> None:
    dark = new_page(color_scheme="dark")
    dark.goto(f"{ui_url}/monitoring?model={MODEL}")
    dark.wait_for_function(READY)
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 17, 23)"
    shot(dark, "29-monitoring-dark")
    dark.locator("#reports-table a[href^='/monitoring/reports/']").first.click()
    dark.wait_for_url("**/monitoring/reports/**")
    fill = dark.locator("svg.hist rect.hist-current").first.evaluate(
        "r => getComputedStyle(r).fill"
    )
    assert fill == "rgb(126, 166, 255)"  # the dark theme's accent
    shot(dark, "29-monitoring-report-dark")

    bare = new_page(java_script_enabled=False)
    bare.goto(f"{ui_url}/monitoring?model={MODEL}")
    assert not bare.locator("#drift-chart").is_visible()
    assert bare.locator("#drift-table").is_visible()
    assert bare.locator("#drift-table tbody tr").count() == len(WINDOWS)
    assert bare.locator("#quality-table").is_visible()
    shot(bare, "29-monitoring-without-javascript")


def test_all_models_by_keyboard(page: Any, ui_url: str, shot: Shot) -> None:
    page.goto(f"{ui_url}/monitoring")
    assert page.locator("#monitors-table tbody tr").count() == 1
    assert page.locator("#alerts-table tbody tr").count() == len(ALERTS)
    assert page.locator("#reports-table tbody tr").count() == len(WINDOWS) + 1
    assert page.locator("#drift-chart").count() == 0  # charts are per model
    shot(page, "29-monitoring-all")
    for _ in range(30):  # Tab along the page until the section link to the alerts
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('href')") == "#alerts":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/monitoring#alerts")
    for _ in range(30):  # on from the alerts to the newest alert's report
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Report":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/monitoring/reports/**")
    notice = page.locator("#alert-notice [data-status]")
    assert notice.evaluate_all("badges => badges.map((b) => b.dataset.status)") == list(ALERTS[-1])
