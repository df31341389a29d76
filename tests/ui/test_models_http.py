"""The model registry's pages over plain HTTP, against the seeded live server."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import live_server
from tests.ui.seed import BEST_RUN, Seeded
from tests.ui.seed_models import (
    EMPTY_MODEL,
    LOST_MODEL,
    MODEL,
    MODEL_COUNT,
    PLOT,
    PRODUCTION_VERSION,
    REAL_MODEL,
    SMALL_MODEL,
)
from tests.ui.test_pages_http import assert_page

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def section(html: str, element_id: str) -> str:
    """The markup of the element with ``element_id`` up to the next card."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<section class="card"', start)
    return html[start : end if end != -1 else len(html)]


def rows(html: str, table_id: str) -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body.split("<tbody>", 1)[1], re.S)


def plot_urls(html: str) -> list[str]:
    return sorted(set(re.findall(r'<img src="(/ui/raw/evaluations/[^"]+)"', html)))


# -- the models list ----------------------------------------------------------------


def test_models_list_shows_latest_version_and_aliases(http: httpx.Client) -> None:
    html = assert_page(http.get("/models"), 200, MODEL, SMALL_MODEL, "Digit classifier")
    mnist = next(row for row in rows(html, "models-table") if f'data-model="{MODEL}"' in row)
    # v3 is archived: the latest READY version is v2, which production names.
    assert f'href="/models/{MODEL}/{PRODUCTION_VERSION}">v{PRODUCTION_VERSION}<' in mnist
    assert "@production → v2" in mnist
    assert '<a href="/models">Models</a>' in html.replace(' aria-current="page"', "")


def test_models_list_without_versions_or_aliases(http: httpx.Client) -> None:
    html = http.get("/models").text
    assert len(rows(html, "models-table")) == MODEL_COUNT
    draft = next(row for row in rows(html, "models-table") if f'data-model="{EMPTY_MODEL}"' in row)
    assert '<td class="num">—</td>' in draft and "none" in draft
    page = assert_page(http.get(f"/models/{EMPTY_MODEL}"), 200, "No versions", "Nothing to draw")
    assert f"shipyard models register runs:/&lt;run-id&gt;/model {EMPTY_MODEL}" in page


def test_models_list_filters_by_name(http: httpx.Client) -> None:
    html = assert_page(http.get("/models", params={"name": "fraud"}), 200, SMALL_MODEL)
    assert len(rows(html, "models-table")) == 1
    # LIKE wildcards are taken literally: no model has an underscore in its name.
    assert_page(http.get("/models", params={"name": "_"}), 200, "No model matches")


def test_empty_registry_says_what_to_run(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "blobs")) as url:
        assert_page(
            httpx.get(f"{url}/models"),
            200,
            "No registered models yet",
            "registered_model_name=&#34;digits&#34;",
            "shipyard models register",
        )


# -- one model ----------------------------------------------------------------------


def test_model_page_lists_versions_with_their_runs(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(http.get(f"/models/{MODEL}"), 200, "3 versions", "Archived", "onnx")
    versions = rows(html, "versions-table")
    assert [re.findall(r'data-version="(\d+)"', row) for row in versions] == [["3"], ["2"], ["1"]]
    best = versions[1]
    assert f'href="/runs/{seeded.runs[BEST_RUN]}">{BEST_RUN}<' in best
    assert "@production" in best and "CNN trained by mnist-07" in best


def test_model_page_shows_aliases_and_their_history(http: httpx.Client) -> None:
    html = http.get(f"/models/{MODEL}").text
    aliases = section(html, "aliases")
    assert "@production</a> names" in aliases and "@staging" not in aliases.split("History")[0]
    history = [re.sub(r"<[^>]+>", "", row) for row in rows(aliases, "alias-history")]
    history = [" ".join(unescape(text).split()) for text in history]
    assert len(history) == 4  # newest first
    assert "removed from v3" in history[0] and "refused by the gate" in history[0]
    assert "set to v3" in history[1]
    assert "v1 → v2" in history[2] and "gate" in history[2] and "0.982" in history[2]
    assert "set to v1" in history[3] and "first release" in history[3]


def test_model_page_shows_evaluations_and_decisions(http: httpx.Client) -> None:
    html = http.get(f"/models/{MODEL}").text
    evaluations = section(html, "evaluations")
    assert 'href="/datasets/mnist-images/2">mnist-images v2</a>' in evaluations
    assert '<td class="num best">0.982</td>' in evaluations  # v2's accuracy, the best
    assert len(plot_urls(evaluations)) == 3
    decisions = rows(html, "decisions-table")
    assert len(decisions) == 2
    assert "Refused" in decisions[0] and "0.975" in decisions[0]
    assert "Promoted" in decisions[1] and "0.982" in decisions[1] and "0.978" in decisions[1]


def test_model_page_draws_lineage_as_links(http: httpx.Client, seeded: Seeded) -> None:
    svg = section(http.get(f"/models/{MODEL}").text, "lineage").split("</svg>", 1)[0]
    links = set(re.findall(r'<a class="lineage-node[^"]*" href="([^"]+)"', svg))
    assert {
        "/datasets/mnist-images/1",
        "/datasets/mnist-images/2",
        f"/runs/{seeded.runs[BEST_RUN]}",
        f"/models/{MODEL}/2",
        f"/models/{MODEL}/production",
    } <= links
    assert len([link for link in links if link.startswith("/runs/")]) == 3
    assert svg.count("<path d=") == 3 + 3 + 1  # data→run, run→version, version→alias


# -- one version --------------------------------------------------------------------


def test_version_page_shows_the_package(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(
        http.get(f"/models/{MODEL}/{PRODUCTION_VERSION}"),
        200,
        f"models:/{MODEL}/2",
        "Python 3.11.9",
        "onnxruntime",
        "model.onnx",
        "input_example.json",
        'id="input-example"',
    )
    signature = rows(html, "signature-table")
    assert "pixels" in signature[0] and "float32" in signature[0] and "[any, 784]" in signature[0]
    assert "digit" in signature[1] and "int64" in signature[1]
    assert f'id="source-run">{BEST_RUN}<' in html
    assert 'href="/datasets/mnist-images/2">mnist-images v2</a>' in section(html, "package")
    files = rows(html, "package-files")
    assert len(files) == 3 and all(re.search(r"[0-9a-f]{64}", row) for row in files)
    example = html.split('id="input-example"', 1)[1].split("</pre>", 1)[0]
    assert "2 rows of float32" in html and "[0.5, 0.5," in example and "… (784 values)" in example
    assert len(plot_urls(html)) == 1
    assert "Promoted" in html and "Refused" in html  # decisions v2 took part in


def test_version_logged_by_log_model(http: httpx.Client, seeded: Seeded) -> None:
    """The manifest the packaging code writes today reads on the page."""
    html = assert_page(http.get(f"/models/{REAL_MODEL}/1"), 200, "sklearn", "scikit-learn")
    signature = rows(html, "signature-table")
    assert any("float64" in row and "[any, 64]" in row for row in signature)
    assert "5 rows of float64" in html
    files = [re.sub(r"<[^>]+>", " ", row).split()[0] for row in rows(html, "package-files")]
    assert "input_example.json" in files and "shipyard-model.json" in files
    assert 'href="/datasets/mnist-images/1">mnist-images v1</a>' in section(html, "package")
    run = http.get(f"/runs/{seeded.runs['digits-logreg']}").text
    assert f'href="/models/{REAL_MODEL}/1">{REAL_MODEL} v1</a>' in section(run, "model")


def test_version_whose_package_cannot_be_read(http: httpx.Client) -> None:
    html = assert_page(
        http.get(f"/models/{LOST_MODEL}/1"), 200, "s3://old-bucket/ranker", "cannot be read"
    )
    assert 'id="signature-table"' not in html
    model = assert_page(http.get(f"/models/{LOST_MODEL}"), 200, "s3://old-bucket/ranker")
    # No run: the version is drawn alone.
    assert re.findall(r'class="lineage-node ([^"]+)"', model) == ["node-version"]


@pytest.mark.parametrize(("ref", "says"), [("production", "@production"), ("latest", "latest")])
def test_version_page_through_an_alias(http: httpx.Client, ref: str, says: str) -> None:
    html = assert_page(http.get(f"/models/{MODEL}/{ref}"), 200, f"names v{PRODUCTION_VERSION}")
    assert says in html.split('id="resolved-from"', 1)[1]
    assert f"models:/{MODEL}/{PRODUCTION_VERSION}" in html


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/models/nope", 404, "nope"),
        (f"/models/{MODEL}/9", 404, "9"),
        (f"/models/{MODEL}/nightly", 404, "nightly"),
        (f"/models/{MODEL}/0", 400, "start at 1"),
        (f"/models/{MODEL}/bad%20alias", 400, "alias"),
        ("/models", 400, "token"),
    ],
)
def test_bad_model_pages(http: httpx.Client, url: str, status: int, text: str) -> None:
    params = {"page_token": "not-a-token"} if url == "/models" else None
    assert_page(http.get(url, params=params), status, text, "Back to experiments")


# -- evaluation plots ---------------------------------------------------------------


def test_plots_are_served_as_png_with_cache_headers(http: httpx.Client) -> None:
    url = plot_urls(http.get(f"/models/{MODEL}/{PRODUCTION_VERSION}").text)[0]
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = http.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(response.content))


def test_only_plots_an_evaluation_names_are_served(http: httpx.Client) -> None:
    url = plot_urls(http.get(f"/models/{MODEL}").text)[0]
    evaluation = url.split("/")[4]
    other = http.get(f"/ui/raw/evaluations/{evaluation}/roc.png")
    assert other.status_code == 404 and other.json()["error"]["code"] == "NOT_FOUND"
    unknown = http.get(f"/ui/raw/evaluations/0123456789abcdef0123456789abcdef/{PLOT}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"


# -- the run page links to its model ------------------------------------------------------


def test_run_page_links_to_the_registered_version(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(http.get(f"/runs/{seeded.runs[BEST_RUN]}"), 200, 'href="#model"')
    overview = section(html, "overview")
    assert f'<dt>Registered model</dt><dd><a href="/models/{MODEL}/2">{MODEL} v2</a>' in overview
    model = section(html, "model")
    assert f'href="/models/{MODEL}/{PRODUCTION_VERSION}">{MODEL} v2</a>' in model
    assert "@production" in model
    # The section also shows from inside an artifact folder.
    inside = http.get(f"/runs/{seeded.runs[BEST_RUN]}", params={"dir": "plots"}).text
    assert f"/models/{MODEL}/{PRODUCTION_VERSION}" in section(inside, "model")


def test_run_without_a_model_has_no_model_section(http: httpx.Client, seeded: Seeded) -> None:
    assert 'id="model"' not in http.get(f"/runs/{seeded.runs['mnist-01']}").text


# -- unknown paths: a page for browsers, JSON for programs --------------------------------


def test_unknown_page_answers_browsers_with_html(http: httpx.Client) -> None:
    html = assert_page(http.get("/no/such/page", headers=BROWSER), 404, "Not found")
    assert "/no/such/page" in html and "Back to experiments" in html


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/no/such/page", {}),
        ("/no/such/page", {"Accept": "application/json"}),
        ("/api/v1/nothing-here", BROWSER),
        ("/v2/models/x/ready", BROWSER),
        ("/ui/api/nothing", BROWSER),
    ],
)
def test_unknown_paths_stay_json_for_programs(
    http: httpx.Client, url: str, headers: dict[str, str]
) -> None:
    response = http.get(url, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
