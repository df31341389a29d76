"""The UI's pages over plain HTTP: server-rendered content (no JavaScript) and 4xx pages."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard import __version__
from tests.support.live_server import live_server
from tests.ui.seed import BEST_RUN, HISTORY_STEPS, MNIST_RUNS, Seeded


def run_names(html: str) -> list[str]:
    """Run names in the order the runs table lists them."""
    body = html.split('id="runs-table"', 1)[1]
    return re.findall(r'<td class="run-name"><a href="/runs/[0-9a-f]+">([^<]+)</a>', body)


def link(html: str, rel: str) -> str:
    match = re.search(rf'<a class="button" href="([^"]+)" rel="{rel}">', html)
    assert match, f"no {rel} link"
    return unescape(match.group(1))


def assert_page(response: httpx.Response, status: int, *texts: str) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for text in texts:
        assert text in html, f"{text!r} not in the page"
    return html


# -- pages render on the server -------------------------------------------------


def test_experiments_page_lists_experiments(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(http.get("/"), 200, "mnist", "fraud-detection", "team=vision")
    assert f"/runs?experiment={seeded.experiments['mnist']}" in html


def test_runs_table_is_rendered_without_javascript(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(
        http.get("/runs", params={"experiment": seeded.experiments["mnist"]}), 200, "test_accuracy"
    )
    names = run_names(html)
    assert len(names) == MNIST_RUNS
    assert names[0] == "mnist-12"  # default order: newest first


def test_sorting_by_a_metric_happens_on_the_server(http: httpx.Client, seeded: Seeded) -> None:
    mnist = seeded.experiments["mnist"]
    best_first = run_names(
        http.get("/runs", params={"experiment": mnist, "order": "metrics.test_accuracy DESC"}).text
    )
    assert best_first[0] == BEST_RUN
    worst_first = run_names(
        http.get("/runs", params={"experiment": mnist, "order": "metrics.test_accuracy ASC"}).text
    )
    assert worst_first == best_first[::-1]


def test_filter_narrows_the_table(http: httpx.Client, seeded: Seeded) -> None:
    response = http.get(
        "/runs",
        params={
            "experiment": seeded.experiments["mnist"],
            "filter": "params.model = 'cnn' and metrics.test_accuracy > 0.97",
        },
    )
    assert sorted(run_names(assert_page(response, 200))) == ["mnist-05", "mnist-07", "mnist-09"]


def test_pages_follow_tokens_forward_and_back(http: httpx.Client, seeded: Seeded) -> None:
    params = {"experiment": seeded.experiments["mnist"], "page_size": "5"}
    first = http.get("/runs", params=params).text
    second = http.get(link(first, "next")).text
    third = http.get(link(second, "next")).text
    pages = [run_names(first), run_names(second), run_names(third)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert len({name for p in pages for name in p}) == MNIST_RUNS
    assert 'rel="next"' not in third
    assert run_names(http.get(link(third, "prev")).text) == pages[1]
    assert run_names(http.get(link(second, "prev")).text) == pages[0]


def test_chosen_columns_and_several_experiments(http: httpx.Client, seeded: Seeded) -> None:
    response = http.get(
        "/runs",
        params=[
            ("experiment", seeded.experiments["mnist"]),
            ("experiment", seeded.experiments["fraud-detection"]),
            ("col", ""),
            ("col", "metrics.auc"),
            ("col", "tags.dataset"),
        ],
    )
    html = assert_page(response, 200, "Experiment", "fraud-detection", "mnist-v2")
    assert 'data-column="metrics.auc"' in html and 'data-column="tags.dataset"' in html
    assert 'data-column="metrics.loss"' not in html  # the columns were chosen
    assert len(run_names(html)) == MNIST_RUNS + 4


def test_column_picker_offers_keys_of_every_page(tmp_path: Path) -> None:
    """The picker lists every key of the experiment, not only those of the runs shown."""
    from shipyard.entities import Metric, Param
    from shipyard.store.sql.store import SqlStore

    db = f"sqlite:///{tmp_path / 'keys.db'}"
    with SqlStore(db) as store:
        experiment = store.create_experiment("keys")
        oldest = store.create_run(experiment.id, name="oldest", start_time=1_000)
        store.log_batch(
            oldest.id, metrics=[Metric("old_loss", 0.5, 0, 1)], params=[Param("old_lr", "0.1")]
        )
        for index in range(2):
            run = store.create_run(experiment.id, name=f"new-{index}", start_time=2_000 + index)
            store.log_batch(run.id, metrics=[Metric("acc", 0.9, 0, 1)])
    with (
        live_server(db, str(tmp_path / "blobs")) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        first = client.get("/runs", params={"experiment": experiment.id, "page_size": "2"})
        html = assert_page(first, 200)
        assert run_names(html) == ["new-1", "new-0"]  # "oldest" is on page 2
        picker = html.split('id="columns-picker"', 1)[1].split("</details>", 1)[0]
        for spec in ("metrics.acc", "metrics.old_loss", "params.old_lr"):
            assert f'name="col" value="{spec}"' in picker, spec
        assert 'data-column="metrics.old_loss"' not in html  # offered, not shown


def test_run_page_shows_overview_params_metrics_environment_artifacts(
    http: httpx.Client, seeded: Seeded
) -> None:
    html = assert_page(
        http.get(f"/runs/{seeded.runs[BEST_RUN]}"),
        200,
        BEST_RUN,
        "Finished",
        "7m 10s",
        "063f9c1b8e",  # the commit, shortened
        ">dirty<",
        "train.py",
        "python train.py --lr 0.02",
        "0.982",  # test_accuracy
        "predictions.csv",
        "environment/",
        "scikit-learn==1.5.2",  # requirements, inline
        'id="run-charts"',
    )
    assert "view diff" in html


def test_run_page_opens_an_artifact_folder(http: httpx.Client, seeded: Seeded) -> None:
    html = assert_page(
        http.get(f"/runs/{seeded.runs[BEST_RUN]}", params={"dir": "environment"}),
        200,
        "requirements.txt",
        "system.json",
    )
    assert "predictions.csv" not in html.split('id="artifacts"', 1)[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("predictions.csv", ['<th scope="col">image_id</th>', "First 50 rows."]),
        ("data/sample.parquet", ["image_id", "First 50 of 100 rows", "label: int64"]),
        ("metrics.json", ["&#34;accuracy&#34;: 0.981"]),
        ("notes.txt", ["Best run of the sweep."]),
        ("model/weights.bin", ["No preview for this file"]),
        ("plots/confusion_matrix.png", ['<img src="/ui/raw/runs/']),
    ],
)
def test_artifact_previews(
    http: httpx.Client, seeded: Seeded, path: str, expected: list[str]
) -> None:
    response = http.get(f"/runs/{seeded.runs[BEST_RUN]}/artifacts", params={"path": path})
    html = assert_page(response, 200, *expected)
    assert f"/api/v1/runs/{seeded.runs[BEST_RUN]}/artifacts/file?path=" in html  # download


def test_image_is_served_inline_with_its_type(http: httpx.Client, seeded: Seeded) -> None:
    run_id = seeded.runs[BEST_RUN]
    response = http.get(f"/ui/raw/runs/{run_id}", params={"path": "plots/confusion_matrix.png"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    refused = http.get(f"/ui/raw/runs/{run_id}", params={"path": "notes.txt"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "INVALID_INPUT"


def test_compare_page_diffs_params(http: httpx.Client, seeded: Seeded) -> None:
    ids = [seeded.runs[name] for name in ("mnist-01", "mnist-02", BEST_RUN)]
    html = assert_page(http.get("/compare", params={"runs": ids}), 200, "3 runs", "differs")
    differing = re.findall(r'<tr class="differs"><th scope="row">([^ <]+)', html)
    assert differing == ["batch_size", "lr", "model"]
    only = http.get("/compare", params={"runs": ids, "diff_only": "1"}).text
    diff_table = only.split('id="params-diff"', 1)[1].split("</table>", 1)[0]
    assert ">epochs<" not in diff_table and ">lr " in diff_table
    assert 'id="scatter-data"' in html and '"param": "lr"' in html


def test_chart_data_is_downsampled_on_the_server(http: httpx.Client, seeded: Seeded) -> None:
    run_id = seeded.runs[BEST_RUN]
    body = http.get(
        "/ui/api/metrics", params={"run": run_id, "key": ["loss", "accuracy"], "max_points": 50}
    ).json()
    assert {series["key"] for series in body["series"]} == {"loss", "accuracy"}
    for series in body["series"]:
        assert 2 < len(series["value"]) <= 50
        assert series["step"][0] == 0 and series["step"][-1] == HISTORY_STEPS - 1
    whole = http.get("/ui/api/metrics", params={"run": run_id, "key": "loss", "max_points": 5000})
    assert len(whole.json()["series"][0]["value"]) == HISTORY_STEPS


def test_static_files_and_the_chart_library_license(http: httpx.Client) -> None:
    assert http.get("/static/shipyard.css").status_code == 200
    script = http.get("/static/vendor/uplot/uPlot.iife.min.js")
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert script.headers["content-type"].startswith("text/javascript")
    assert "var uPlot=function()" in script.text
    plain = http.get(
        "/static/vendor/uplot/uPlot.iife.min.js", headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.content == script.content
    assert "MIT License" in http.get("/static/vendor/uplot/LICENSE").text


# -- bad requests answer a friendly page with a 4xx ----------------------------------------


def test_bad_filter_is_shown_inline_with_its_position(http: httpx.Client) -> None:
    response = http.get("/runs", params={"filter": "metrics.acc >"})
    html = assert_page(response, 400, "Invalid filter", "position 13", 'aria-invalid="true"')
    assert 'value="metrics.acc &gt;"' in html  # the text stays in the box to be fixed
    assert "metrics.acc &gt;\n" + " " * 13 + "^" in html


@pytest.mark.parametrize(
    ("url", "params", "status", "text"),
    [
        ("/runs/0123456789abcdef0123456789abcdef", {}, 404, "no run"),
        ("/runs", {"experiment": "nope"}, 404, "experiment"),
        ("/runs", {"page_size": "lots"}, 400, "page_size"),
        ("/runs", {"page_size": "0"}, 400, "page_size"),
        ("/runs", {"order": "metrics."}, 400, "order_by"),
        ("/runs", {"col": "bogus"}, 400, "metrics.&lt;key&gt;"),
        ("/runs", {"view": "sideways"}, 400, "view"),
        ("/", {"page_token": "not-a-token"}, 400, "token"),
        ("/compare", {"runs": "0123456789abcdef0123456789abcdef"}, 404, "no run"),
        ("/compare", {"runs": [f"{i:032x}" for i in range(21)]}, 400, "at most 20"),
    ],
)
def test_bad_requests_render_an_error_page(
    http: httpx.Client, url: str, params: dict[str, Any], status: int, text: str
) -> None:
    assert_page(http.get(url, params=params), status, text, "Back to experiments")


def test_stale_page_token_is_shown_inline(http: httpx.Client) -> None:
    response = http.get("/runs", params={"page_token": "not-a-token"})
    assert_page(response, 400, "Cannot search", "invalid page token", 'id="filter"')


def test_bad_run_page_parameters(http: httpx.Client, seeded: Seeded) -> None:
    run = f"/runs/{seeded.runs[BEST_RUN]}"
    assert_page(http.get(run, params={"x": "sideways"}), 400, "x must be one of")
    assert_page(http.get(run, params={"smooth": "2"}), 400, "smooth")
    assert_page(http.get(run, params={"dir": "../etc"}), 400)
    assert_page(http.get(run, params={"dir": "no-such-folder"}), 404, "no artifact folder")
    assert_page(http.get(f"{run}/artifacts", params={"path": "missing.txt"}), 404, "missing.txt")
    assert_page(http.get(f"{run}/artifacts"), 400, "which artifact")
    assert_page(http.get(f"{run}/artifacts", params={"path": "/etc/passwd"}), 400)


def test_compare_with_nothing_selected_explains_what_to_do(http: httpx.Client) -> None:
    assert_page(http.get("/compare"), 200, "No runs selected", "Compare selected")


def test_empty_experiment_says_what_to_run(http: httpx.Client, seeded: Seeded) -> None:
    response = http.get("/runs", params={"experiment": seeded.experiments["empty"]})
    assert_page(response, 200, "No runs yet", "make demo", "sy.start_run")


def test_empty_store_says_what_to_run(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "blobs")) as url:
        assert_page(httpx.get(f"{url}/"), 200, "No experiments yet", "make demo")
        assert_page(httpx.get(f"{url}/runs"), 200, "No runs yet")


def test_api_errors_stay_json(http: httpx.Client) -> None:
    response = http.get("/api/v1/runs/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


# -- datasets ---------------------------------------------------------------------------------


def test_datasets_pages(http: httpx.Client, seeded: Seeded) -> None:
    assert_page(http.get("/datasets"), 200, "mnist-images", "v2")
    listing = assert_page(http.get("/datasets/mnist-images"), 200, "first cut", "more rows")
    assert listing.index(">v2<") < listing.index(">v1<")  # newest first
    version = assert_page(
        http.get("/datasets/mnist-images/2"),
        200,
        "datasets:/mnist-images/2",
        "golden",
        "test.csv",
        BEST_RUN,  # lineage: the run that used it
        'class="histogram"',
        "2.5%",  # label's missing share
    )
    assert version.count("<rect ") == 9
    assert f"Shipyard {__version__}</footer>" in version
    run = http.get(f"/runs/{seeded.runs[BEST_RUN]}").text
    assert 'href="/datasets/mnist-images/2"' in run


def test_dataset_diff_page(http: httpx.Client) -> None:
    html = assert_page(
        http.get("/datasets/mnist-images/diff", params={"old": "1", "new": "2"}),
        200,
        "1 added",
        "1 modified",
        "test.csv",
    )
    assert 'id="table-changes"' in html and ">100<" in html and ">120<" in html


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/datasets/nope", 404),
        ("/datasets/mnist-images/9", 404),
        ("/datasets/mnist-images/latest", 400),
        ("/datasets/mnist-images/diff?old=1&new=x", 400),
    ],
)
def test_bad_dataset_pages(http: httpx.Client, url: str, status: int) -> None:
    assert_page(http.get(url), status, "Back to experiments")
