"""The web UI in a real headless Chromium against a live server with seeded data.

Each test saves screenshots (``$SHIPYARD_UI_SCREENSHOTS``, by default
``/tmp/shipyard-ui-screenshots``) and fails on any JavaScript console error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.ui.conftest import ConsoleLog
from tests.ui.seed import BEST_RUN, MNIST_RUNS, Seeded

Shot = Callable[[Any, str], Path]


def table_runs(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("#runs-table td.run-name a").all_inner_texts()]


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def wait_for_charts(page: Any, count: int) -> list[dict[str, Any]]:
    """uPlot's own account of each chart: its key, and per series the points it holds."""
    page.wait_for_function(f"window.shipyardCharts && window.shipyardCharts.length >= {count}")
    charts: list[dict[str, Any]] = page.evaluate(
        """() => window.shipyardCharts.map((u) => ({
            key: u.shipyardKey,
            canvas: !!u.root.querySelector("canvas") && u.root.querySelector("canvas").width > 0,
            series: u.data.slice(1).map((ys) => ys.filter((v) => v != null).length),
        }))"""
    )
    return charts


def test_experiments_to_runs_table(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(ui_url + "/")
    rows = page.locator("#experiments-table tbody tr")
    assert rows.count() == len(seeded.experiments)
    shot(page, "01-experiments")
    page.get_by_role("link", name="mnist", exact=True).click()
    page.wait_for_selector("#runs-table")
    assert len(table_runs(page)) == MNIST_RUNS
    assert page.locator("#runs-table thead th[data-column='metrics.test_accuracy']").count() == 1
    shot(page, "02-runs-table")


def test_sort_by_clicking_a_column(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    assert table_runs(page)[0] == "mnist-12"  # newest first
    header = page.locator("th[data-column='metrics.test_accuracy'] a")
    header.click()
    page.wait_for_url("**order=metrics.test_accuracy+DESC**")
    best_first = table_runs(page)
    assert best_first[0] == BEST_RUN
    assert page.locator("th[data-column='metrics.test_accuracy']").get_attribute("aria-sort") == (
        "descending"
    )
    page.locator("th[data-column='metrics.test_accuracy'] a").click()
    page.wait_for_url("**order=metrics.test_accuracy+ASC**")
    assert table_runs(page) == best_first[::-1]
    shot(page, "03-runs-sorted")


def test_filter_in_the_search_box(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    page.fill("#filter", "params.model = 'cnn' and metrics.test_accuracy > 0.97")
    page.press("#filter", "Enter")
    page.wait_for_url("**filter=**")
    assert sorted(table_runs(page)) == ["mnist-05", "mnist-07", "mnist-09"]
    assert query(page)["filter"] == ["params.model = 'cnn' and metrics.test_accuracy > 0.97"]
    shot(page, "04-runs-filtered")


def test_bad_filter_is_shown_inline(
    page: Any, console: ConsoleLog, ui_url: str, seeded: Seeded, shot: Shot
) -> None:
    console.allow_4xx = True
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    page.fill("#filter", "metrics.accuracy > 0.9 and params.model =")
    page.press("#filter", "Enter")
    error = page.locator("#filter-error")
    error.wait_for()
    assert "position 41" in error.inner_text()
    assert page.locator("#filter").get_attribute("aria-invalid") == "true"
    # The caret sits where parsing failed, ready for the fix.
    assert page.evaluate("document.activeElement.id") == "filter"
    assert page.evaluate("document.activeElement.selectionStart") == 41
    shot(page, "05-filter-error")


def test_choose_columns(page: Any, ui_url: str, seeded: Seeded) -> None:
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    page.locator("#columns-picker summary").click()
    page.locator(".columns-form input[value='params.epochs']").uncheck()
    page.fill("#extra-col", "tags.dataset")
    page.get_by_role("button", name="Apply columns").click()
    page.wait_for_selector("th[data-column='tags.dataset']")
    assert page.locator("th[data-column='params.epochs']").count() == 0
    assert page.locator("#runs-table tbody tr").first.inner_text().count("mnist-v2") == 1
    assert "tags.dataset" in query(page)["col"]


def test_select_runs_and_compare(
    page: Any, ui_url: str, seeded: Seeded, shot: Shot, new_page: Callable[..., Any]
) -> None:
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    for name in ("mnist-03", BEST_RUN, "mnist-10"):
        page.locator(f"tr[data-run-id='{seeded.runs[name]}'] input[type=checkbox]").check()
    assert page.inner_text("#selected-count") == "3"
    assert len(query(page)["sel"]) == 3  # the selection is part of the URL
    page.get_by_role("button", name="Compare selected (3)").click()
    page.wait_for_url("**/compare?**")
    assert page.locator("#compared-runs tbody tr").count() == 3
    differing = page.locator("#params-diff tr.differs th").all_inner_texts()
    assert [text.split()[0] for text in differing] == ["batch_size", "lr", "model"]
    best = page.locator("#metrics-compare tr", has_text="test_accuracy").locator("td.best")
    assert best.inner_text() == "0.982"
    charts = wait_for_charts(page, 3)  # accuracy, loss, and the scatter
    by_key = {chart["key"]: chart for chart in charts}
    assert by_key["loss"]["canvas"] and by_key["loss"]["series"] == [300, 300, 300]
    assert by_key["scatter"]["series"] == [1, 1, 1]
    shot(page, "06-compare")
    dark = new_page(color_scheme="dark")
    dark.goto(page.url)
    wait_for_charts(dark, 3)
    shot(dark, "06-compare-dark")


def test_run_page_charts_and_controls(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(f"{ui_url}/runs/{seeded.runs[BEST_RUN]}")
    charts = wait_for_charts(page, 2)
    assert {chart["key"] for chart in charts} == {"accuracy", "loss"}
    assert all(chart["canvas"] and chart["series"] == [300] for chart in charts)
    assert "One value" in page.locator(".chart-card[data-key='test_accuracy']").inner_text()
    shot(page, "07-run")
    page.locator(".chart-smooth").fill("0.8")
    assert query(page)["smooth"] == ["0.8"]
    smoothed = wait_for_charts(page, 2)
    assert all(chart["series"] == [300, 300] for chart in smoothed)  # raw and smoothed
    page.select_option(".chart-x", "wall")
    assert query(page)["x"] == ["wall"]
    assert page.evaluate("window.shipyardCharts[0].scales.x.time") is True
    shot(page, "08-run-smoothed-wall-time")


def test_run_page_artifacts(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(f"{ui_url}/runs/{seeded.runs[BEST_RUN]}#artifacts")
    page.locator("#artifacts-table").get_by_role("link", name="plots/").click()
    page.get_by_role("link", name="confusion_matrix.png").click()
    image = page.locator("#preview img")
    image.wait_for()
    page.wait_for_function("document.querySelector('#preview img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('#preview img').naturalWidth") == 160
    shot(page, "09-artifact-image")
    page.goto(f"{ui_url}/runs/{seeded.runs[BEST_RUN]}/artifacts?path=predictions.csv")
    assert page.locator(".preview-table tbody tr").count() == 50
    shot(page, "10-artifact-csv")


def test_pages_without_javascript(
    new_page: Callable[..., Any], ui_url: str, seeded: Seeded, shot: Shot
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}&order=metrics.loss+ASC")
    assert table_runs(page)[0] == "mnist-12"
    page.goto(f"{ui_url}/runs/{seeded.runs[BEST_RUN]}")
    assert page.locator("#metrics-table tbody tr").count() == 3
    assert page.locator("#params-table tbody tr").count() == 4
    shot(page, "11-run-without-javascript")


def test_dark_theme_follows_the_system(
    new_page: Callable[..., Any], ui_url: str, seeded: Seeded, shot: Shot
) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = new_page(color_scheme=scheme)
        page.goto(f"{ui_url}/runs/{seeded.runs[BEST_RUN]}")
        wait_for_charts(page, 2)
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        shot(page, f"12-run-{scheme}")
    assert colours["light"] != colours["dark"]


def test_keyboard_navigation(page: Any, ui_url: str) -> None:
    page.goto(ui_url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    # Past the page's buttons, into the table: real links and checkboxes take the focus.
    tags = set()
    for _ in range(6):
        page.keyboard.press("Tab")
        tags.add(page.evaluate("document.activeElement.tagName"))
    assert {"A", "INPUT"} <= tags


def test_dataset_version_and_diff(page: Any, ui_url: str, shot: Shot) -> None:
    page.goto(ui_url + "/datasets")
    page.get_by_role("link", name="mnist-images").click()
    page.get_by_role("button", name="Compare the two chosen versions").click()
    page.wait_for_url("**/mnist-images/diff?**")
    assert query(page) == {"old": ["1"], "new": ["2"]}
    assert "1 added" in page.inner_text("#diff-summary")
    shot(page, "14-dataset-diff")
    page.goto(ui_url + "/datasets/mnist-images/2")
    assert page.locator("svg.histogram rect").count() == 9
    assert page.locator("#version-runs tbody tr").count() == 1
    shot(page, "15-dataset-version")


def test_unknown_run_page(page: Any, console: ConsoleLog, ui_url: str, shot: Shot) -> None:
    console.allow_4xx = True
    response = page.goto(ui_url + "/runs/0123456789abcdef0123456789abcdef")
    assert response is not None and response.status == 404
    assert "no run" in page.inner_text(".error-message")
    shot(page, "13-not-found")
