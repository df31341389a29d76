"""The model pages in a real headless Chromium, and the journey from a sweep to its data.

Screenshots go where the other browser tests put theirs (``$SHIPYARD_UI_SCREENSHOTS``,
by default ``/tmp/shipyard-ui-screenshots``), named ``2x-*``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ui.conftest import ConsoleLog
from tests.ui.seed import BEST_RUN, Seeded
from tests.ui.seed_models import MODEL, MODEL_COUNT, PLOT_SIZE, PRODUCTION_VERSION

Shot = Callable[[Any, str], Path]


def plot_widths(page: Any) -> list[int]:
    """Each evaluation plot's natural width, once every one has loaded."""
    images = page.locator(".plots img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()  # they load lazily
    page.wait_for_function(
        "[...document.querySelectorAll('.plots img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    widths: list[int] = page.evaluate(
        "[...document.querySelectorAll('.plots img')].map((i) => i.naturalWidth)"
    )
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar at the top of the screenshot
    return widths


def lineage_links(page: Any) -> list[str]:
    links: list[str] = page.evaluate(
        "[...document.querySelectorAll('svg.lineage a')].map((a) => a.getAttribute('href'))"
    )
    return links


def test_models_list(page: Any, ui_url: str, shot: Shot) -> None:
    page.goto(ui_url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    page.wait_for_url("**/models")
    assert page.locator("#models-table tbody tr").count() == MODEL_COUNT
    assert page.locator(f"tr[data-model='{MODEL}'] .alias-chip").inner_text() == "@production → v2"
    shot(page, "20-models")
    page.get_by_role("link", name=MODEL, exact=True).click()
    page.wait_for_url(f"**/models/{MODEL}")


def test_model_page(page: Any, ui_url: str, seeded: Seeded, shot: Shot) -> None:
    page.goto(f"{ui_url}/models/{MODEL}")
    assert page.locator("#versions-table tbody tr").count() == 3
    assert page.locator("#current-aliases li").all_inner_texts() == ["@production names v2"]
    history = page.locator("#alias-history tbody tr")
    assert history.count() == 4
    assert "v1 → v2" in history.nth(2).inner_text()
    assert plot_widths(page) == [PLOT_SIZE[0]] * 3
    links = lineage_links(page)
    assert f"/runs/{seeded.runs[BEST_RUN]}" in links
    assert "/datasets/mnist-images/2" in links
    # The graph is drawn: its nodes have a size on screen.
    box = page.locator(f"svg.lineage a[href='/runs/{seeded.runs[BEST_RUN]}'] rect").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    shot(page, "21-model")


def test_model_page_dark_and_without_javascript(
    new_page: Callable[..., Any], ui_url: str, shot: Shot
) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        page = new_page(color_scheme=scheme)
        page.goto(f"{ui_url}/models/{MODEL}#lineage")
        node = page.locator("svg.lineage a.node-version rect").first
        colours[scheme] = node.evaluate("(r) => getComputedStyle(r).fill")
        if scheme == "dark":
            plot_widths(page)
            shot(page, "22-model-dark")
    assert colours["light"] != colours["dark"]
    bare = new_page(java_script_enabled=False)
    bare.goto(f"{ui_url}/models/{MODEL}/{PRODUCTION_VERSION}")
    assert bare.locator("#signature-table tbody tr").count() == 2
    assert bare.locator("svg.lineage a").count() == 4  # dataset, run, version, alias
    shot(bare, "23-model-version-without-javascript")


def test_lineage_is_keyboard_navigable(page: Any, ui_url: str, seeded: Seeded) -> None:
    page.goto(f"{ui_url}/models/{MODEL}/{PRODUCTION_VERSION}")
    page.locator("#lineage-title").scroll_into_view_if_needed()
    page.locator("svg.lineage a.node-dataset").last.focus()
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused.startswith("/datasets/mnist-images/")
    page.keyboard.press("Tab")  # from the dataset, the next stop is the run
    assert page.evaluate("document.activeElement.getAttribute('href')") == (
        f"/runs/{seeded.runs[BEST_RUN]}"
    )
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/{seeded.runs[BEST_RUN]}")


def test_journey_from_the_best_run_to_its_model_and_data(
    page: Any, ui_url: str, seeded: Seeded, shot: Shot
) -> None:
    """A new user finds the best run, sees why it won, opens its model and its data."""
    page.goto(f"{ui_url}/runs?experiment={seeded.experiments['mnist']}")
    page.locator("th[data-column='metrics.test_accuracy'] a").click()
    page.wait_for_url("**order=metrics.test_accuracy+DESC**")
    best = page.locator("#runs-table td.run-name a").first
    assert best.inner_text() == BEST_RUN
    shot(page, "24-journey-sorted")
    best.click()
    page.wait_for_url(f"**/runs/{seeded.runs[BEST_RUN]}")
    model_link = page.locator("#model a.model-link")
    assert model_link.inner_text() == f"{MODEL} v{PRODUCTION_VERSION}"
    shot(page, "25-journey-run")
    model_link.click()
    page.wait_for_url(f"**/models/{MODEL}/{PRODUCTION_VERSION}")
    # Why it won: the gate's decision, with both scores.
    decision = page.locator("#decisions-table tr", has_text="Promoted")
    assert "0.982" in decision.inner_text() and "0.978" in decision.inner_text()
    shot(page, "26-journey-model-version")
    page.locator("#package-datasets").get_by_role("link", name="mnist-images v2").click()
    page.wait_for_url("**/datasets/mnist-images/2")
    assert page.locator("#version-runs").get_by_role("link", name=BEST_RUN).count() == 1
    shot(page, "27-journey-dataset")


def test_unknown_page_in_a_browser(page: Any, console: ConsoleLog, ui_url: str, shot: Shot) -> None:
    console.allow_4xx = True
    response = page.goto(ui_url + "/modles")
    assert response is not None and response.status == 404
    assert "/modles" in page.inner_text(".error-message")
    page.get_by_role("link", name="Models").click()
    page.wait_for_url("**/models")
    shot(page, "28-unknown-page")
