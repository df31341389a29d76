"""The monitoring pages over plain HTTP (what a browser without JavaScript gets):
monitors, alerts, reports, a model's drift and quality over time, and one report."""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from pathlib import Path
from typing import Any

import blake3
import httpx
import pytest

from shipyard.server.ui.monitoring import model_href
from shipyard.server.ui.monitoring_report import MAX_CHARTS
from shipyard.server.ui.rendering import format_number
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.sql.store import SqlStore
from tests.support.live_server import live_server
from tests.ui.seed_models import MODEL, REAL_MODEL, SMALL_MODEL
from tests.ui.seed_monitoring import ALERTS, LATEST_DRIFTED, WINDOWS
from tests.ui.test_models_http import rows
from tests.ui.test_pages_http import assert_page


def report_links(html: str, table_id: str = "reports-table") -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="(/monitoring/reports/[0-9a-f]+)[#"]', body)


def json_script(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found is not None, element_id
    return json.loads(html_lib.unescape(found.group(1)))


def attribute(row: str, name: str) -> str:
    """The value of the first ``name="..."`` in a row's HTML."""
    found = re.search(rf'{name}="([^"]*)"', row)
    assert found is not None, name
    return found.group(1)


def statuses(html: str, table_id: str) -> list[str]:
    return [attribute(row, "data-status") for row in rows(html, table_id)]


def newest_report(http: httpx.Client, model: str = MODEL) -> str:
    return report_links(http.get("/monitoring", params={"model": model}).text)[0]


# -- all models ---------------------------------------------------------------------


def test_monitoring_page_lists_monitors_alerts_and_reports(http: httpx.Client) -> None:
    html = assert_page(http.get("/monitoring"), 200, "Monitors", "Alerts", "Reports")
    monitors = rows(html, "monitors-table")
    assert len(monitors) == 1
    monitor = monitors[0]
    assert f'href="/models/{MODEL}/production"' in monitor
    assert 'data-status="drift"' in monitor and ">Drift<" in monitor and "since" in monitor
    assert "1h 00m" in monitor and "drift_share 0.3" in monitor
    assert f'href="/monitoring?model={MODEL}">Drift over time' in monitor
    alerts = rows(html, "alerts-table")
    changes = [(attribute(row, "data-from"), attribute(row, "data-to")) for row in alerts]
    assert changes == ALERTS[::-1]  # newest first
    assert all("/monitoring/reports/" in row for row in alerts)
    assert "dropped: accuracy" in alerts[2] and "3 of 5 columns drifted" in alerts[2]
    assert statuses(html, "reports-table") == ["ok", *[w.status for w in WINDOWS][::-1]]
    mnist = rows(html, "reports-table")[1]
    assert f">{MODEL} v2<" in mnist and "4 of 5 · 80%" in mnist and ">300<" in mnist
    assert "datasets:/mnist-images/2" in mnist
    assert 'href="/monitoring" aria-current="page"' in html  # the navigation


def test_report_statuses_have_readable_badges(http: httpx.Client) -> None:
    html = http.get("/monitoring").text
    assert ">Drift + quality drop<" in html and 'class="badge tone-bad"' in html
    assert 'class="badge tone-ok" data-status="ok">OK<' in html


# -- one model -----------------------------------------------------------------------


def test_model_view_has_drift_over_time_as_chart_data_and_a_table(http: httpx.Client) -> None:
    html = assert_page(http.get("/monitoring", params={"model": MODEL}), 200, "Drift over time")
    chart = json_script(html, "drift-data")
    times = chart["x"]
    assert isinstance(times, list) and len(times) == len(WINDOWS) and times == sorted(times)
    assert [line["label"] for line in chart["lines"]] == ["v2"]
    shares = chart["lines"][0]["values"]
    assert shares == [0.0, 0.2, 0.4, 0.6, 0.0, 0.8]
    assert chart["threshold"] == [0.3] * len(WINDOWS)
    drifted = [w.status.startswith("drift") for w in WINDOWS]
    assert [v is not None for v in chart["drift"]] == drifted
    # The same numbers without JavaScript: a table, open until the chart draws.
    assert '<details class="chart-data" id="drift-details" open>' in html
    assert statuses(html, "drift-table") == [w.status for w in WINDOWS][::-1]
    assert "4 of 5" in rows(html, "drift-table")[0] and "80%" in rows(html, "drift-table")[0]
    assert "/static/monitoring.js" in html and "uPlot.iife.min.js" in html
    # The page head says the model's latest status; the alerts name no other monitor.
    assert re.search(r'<h1>.*data-status="drift">Drift</span></h1>', html, re.S)
    assert len(rows(html, "alerts-table")) == len(ALERTS)


def test_model_view_has_quality_over_time_against_the_baseline(http: httpx.Client) -> None:
    html = assert_page(http.get("/monitoring", params={"model": MODEL}), 200, "Quality over time")
    chart = json_script(html, "quality-data")
    scored = [w for w in WINDOWS if w.accuracy is not None]
    assert len(chart["x"]) == len(scored)
    by_metric = {c["metric"]: c for c in chart["charts"]}
    assert list(by_metric) == ["accuracy", "f1_macro"]  # those compared with the baseline
    accuracy = by_metric["accuracy"]
    assert accuracy["current"] == pytest.approx([w.accuracy for w in scored])
    assert accuracy["baseline"] == [0.982] * len(scored)  # v2's promotion evaluation
    assert [v is not None for v in accuracy["dropped"]] == [w.accuracy == 0.875 for w in scored]
    table = rows(html, "quality-table")
    assert len(table) == len(scored)
    dropped = table[2]  # newest first: the drift_and_quality_drop hour is third
    assert re.search(r'class="num bad" data-metric="accuracy">0\.875', dropped)
    assert "(0.982)" in dropped and ">120<" in dropped


def test_model_without_monitor_or_quality(http: httpx.Client) -> None:
    html = assert_page(http.get("/monitoring", params={"model": SMALL_MODEL}), 200, "No monitors")
    assert f"shipyard monitor add models:/{SMALL_MODEL} --every 1h" in html
    assert statuses(html, "reports-table") == ["ok"]
    assert len(json_script(html, "drift-data")["x"]) == 1
    assert "has quality scores yet" in html and 'id="quality-data"' not in html
    assert "Alerts come from monitors; there are none for fraud-xgb" in html
    model = http.get(f"/models/{MODEL}").text
    assert f'href="/monitoring?model={MODEL}" id="monitoring-link"' in model


def test_model_without_reports_says_what_to_run(http: httpx.Client) -> None:
    html = assert_page(http.get("/monitoring", params={"model": REAL_MODEL}), 200, "No reports yet")
    assert f"shipyard monitor report models:/{REAL_MODEL}" in html
    assert f"shipyard monitor add models:/{REAL_MODEL} --every 1h" in html
    assert 'id="drift-data"' not in html and "uPlot" not in html


# -- one report ----------------------------------------------------------------------


def test_report_lists_drifted_columns_first(http: httpx.Client) -> None:
    html = assert_page(http.get(newest_report(http)), 200, "Columns", "drifted first")
    table = rows(html, "columns-table")
    names = [attribute(row, "data-column") for row in table]
    assert names == [*LATEST_DRIFTED, "ink_share"]
    assert all('class="drifted"' in row for row in table[:4]) and "drifted" not in table[4]
    by_name = dict(zip(names, table, strict=True))
    assert (
        "<code>ks</code>" in by_name["mean_intensity"]
        and "p &lt; 0.05" in by_name["mean_intensity"]
    )
    assert "<code>psi</code>" in by_name["ink_share"] and "&gt; 0.2" in by_name["ink_share"]
    assert "No drift" in by_name["ink_share"] and "discrete" not in by_name["ink_share"]
    assert "tablet" in by_name["scanner"] and "<code>chisquare</code>" in by_name["scanner"]
    assert re.search(r"0\.0% → [1-9]\.\d%", by_name["stroke_width"])  # readings went missing
    assert "4 of 5 · 80%" in html and "300 <span" in html and "600 reference rows" in html


def test_report_draws_reference_against_current_histograms(http: httpx.Client) -> None:
    html = http.get(newest_report(http)).text
    section = html.split('id="distributions"', 1)[1].split("</section>", 1)[0]
    figures = re.findall(
        r'<figure class="hist-card" id="column-\d+" data-column="([^"]+)"', section
    )
    assert figures == [*LATEST_DRIFTED, "ink_share"]
    svgs = re.findall(r'<svg class="hist".*?</svg>', section, re.S)
    assert len(svgs) == 5
    for svg in svgs:
        assert svg.count('class="hist-reference"') == svg.count('class="hist-current"') > 1
    scanner = svgs[LATEST_DRIFTED.index("scanner")]
    assert "<title>tablet: reference 0.0% (0 rows)</title>" in scanner  # a new category
    prediction = html.split('id="prediction"', 1)[1].split("</section>", 1)[0]
    assert "Drift</span></h2>" in prediction and prediction.count('<svg class="hist"') == 1


def test_report_quality_alert_and_full_html(http: httpx.Client) -> None:
    url = newest_report(http)
    html = assert_page(
        http.get(url), 200, "Quality", "Held", "the evaluation this version was promoted with"
    )
    quality = rows(html, "quality-table")
    assert 'data-metric="accuracy"' in quality[0] and ">0.982<" in quality[0]
    notice = html.split('id="alert-notice"', 1)[1].split("</p>", 1)[0]
    assert notice.index('data-status="ok"') < notice.index('data-status="drift"')
    assert 'rel="prev"' in html and 'rel="next"' not in html  # the newest of its model
    frame = re.search(r'<iframe class="report-frame" src="([^"]+)" sandbox', html)
    assert frame is not None
    page = http.get(frame.group(1))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert b"Monitoring report: models:/mnist-cnn@production" in page.content
    assert "sandbox" in page.headers["content-security-policy"]
    data = http.get(frame.group(1).replace("report.html", "report.json")).json()
    assert data["status"] == "drift" and data["drift"]["drifted_columns"] == [
        c for c in ["mean_intensity", "stroke_width", "scanner", "dpi"]
    ]


def test_report_with_quality_drop_and_neighbours(http: httpx.Client) -> None:
    links = report_links(http.get("/monitoring", params={"model": MODEL}).text, "drift-table")
    dropped = links[2]  # newest first: drift, ok, drift_and_quality_drop, ...
    html = assert_page(http.get(dropped), 200, "Drift + quality drop", "Dropped")
    accuracy = next(row for row in rows(html, "quality-table") if 'data-metric="accuracy"' in row)
    assert 'class="num bad">0.875' in accuracy
    assert f'href="{links[1]}" rel="next"' in html and f'href="{links[3]}" rel="prev"' in html


def test_a_column_link_pins_its_chart(http: httpx.Client) -> None:
    url = newest_report(http)
    html = assert_page(http.get(url, params={"column": "ink_share"}), 200)
    section = html.split('id="distributions"', 1)[1]
    first = re.search(
        r'<figure class="hist-card( pinned)?" id="column-\d+" data-column="([^"]+)"', section
    )
    assert first is not None and first.groups() == (" pinned", "ink_share")
    missing = http.get(url, params={"column": "nope"})
    assert_page(missing, 404, "has no column")


def test_report_without_html(http: httpx.Client) -> None:
    url = newest_report(http, SMALL_MODEL)
    html = assert_page(http.get(url), 200, "No drift", "no labels yet")
    assert "<iframe" not in html and 'id="alert-notice"' not in html
    assert len(rows(html, "columns-table")) == 3
    report_id = url.rsplit("/", 1)[1]
    missing = http.get(f"/ui/raw/reports/{report_id}/report.html")
    assert missing.status_code == 404 and "no HTML" in missing.json()["error"]["message"]
    assert http.get(f"/ui/raw/reports/{report_id}/secrets.txt").status_code == 404


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        ("/monitoring/reports/0123456789abcdef0123456789abcdef", {}, 404),
        ("/monitoring", {"model": "a/b"}, 400),
        ("/monitoring", {"page_token": "nope"}, 400),
    ],
)
def test_bad_monitoring_pages(
    http: httpx.Client, url: str, params: dict[str, str], status: int
) -> None:
    assert_page(http.get(url, params=params), status, "Back to experiments")


# -- other stores ---------------------------------------------------------------------


def test_empty_monitoring_says_what_to_run(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "blobs")) as url:
        html = assert_page(httpx.get(f"{url}/monitoring"), 200, "No monitors", "No reports yet")
    assert "shipyard monitor add MODEL_URI --every 1h" in html
    assert "shipyard monitor report MODEL_URI" in html
    assert 'id="drift-data"' not in html


def wide_drift_report() -> bytes:
    """A bare drift report (no monitor around it) of 30 columns, the first three shifted."""
    import numpy as np
    import pandas as pd

    from shipyard.monitoring import drift

    rng = np.random.default_rng(3)
    names = [f"pixel_{i:02d}" for i in range(30)]
    reference = pd.DataFrame({n: rng.normal(0, 1, 200) for n in names})
    current = pd.DataFrame({n: rng.normal(2 if i < 3 else 0, 1, 200) for i, n in enumerate(names)})
    return json.dumps(drift(reference, current).to_dict()).encode()


def test_other_reports(tmp_path: Path) -> None:
    """A wide bare drift report, a lost blob, JSON of another shape, a row from before
    statuses: each page still reads."""
    store_uri, blobs = f"sqlite:///{tmp_path / 'odd.db'}", str(tmp_path / "blobs")
    store, blob_store = SqlStore(store_uri), FsspecBlobStore(blobs)
    try:
        wide, _ = blob_store.put(io.BytesIO(wide_drift_report()))
        other, _ = blob_store.put(io.BytesIO(b'{"summary": {"columns": 4}}'))
        lost = blake3.blake3(b"never stored").hexdigest()
        wide_id = store.create_report("pixels", 1, False, 0.1, {"tested_count": 30}, wide).id
        shaped = store.create_report("legacy", None, True, 0.5, {"method": "psi"}, other).id
        gone = store.create_report("legacy", 3, False, 0.0, {"columns": 2}, lost).id
    finally:
        store.close()
        blob_store.close()
    with live_server(store_uri, blobs) as url:
        html = assert_page(httpx.get(f"{url}/monitoring/reports/{wide_id}"), 200, "3 of 30")
        table = rows(html, "columns-table")
        assert [attribute(row, "data-column") for row in table[:3]] == [
            "pixel_00",
            "pixel_01",
            "pixel_02",
        ]
        charts = re.findall(r'<figure class="hist-card[^"]*" id="(column-\d+)"', html)
        assert len(charts) == MAX_CHARTS and charts[:3] == ["column-0", "column-1", "column-2"]
        last = table[-1]  # beyond the charts: its name asks for its chart
        assert f'href="/monitoring/reports/{wide_id}?column=pixel_29#column-29"' in last
        pinned = httpx.get(f"{url}/monitoring/reports/{wide_id}", params={"column": "pixel_29"})
        assert '<figure class="hist-card pinned" id="column-29"' in pinned.text
        assert 'id="quality"' not in html and "<iframe" not in html

        html = assert_page(httpx.get(f"{url}/monitoring/reports/{shaped}"), 200, "psi")
        assert "holds no per-column results" in html and 'data-status="drift"' in html
        assert 'id="columns-table"' not in html
        html = assert_page(httpx.get(f"{url}/monitoring/reports/{gone}"), 200, ">OK<")
        assert "not in the blob store" in html and 'data-status="ok"' in html
        listing = assert_page(httpx.get(f"{url}/monitoring", params={"model": "legacy"}), 200)
    assert sorted(statuses(listing, "drift-table")) == ["drift", "ok"]  # made in one ms, maybe
    assert "has quality scores yet" in listing


@pytest.mark.parametrize(
    ("uri", "href"),
    [
        ("models:/digits", "/models/digits"),
        ("models:/digits/3", "/models/digits/3"),
        ("models:/digits@production", "/models/digits/production"),
        ("runs:/abc/model", None),
        ("models:/a/b/c", None),
    ],
)
def test_model_uris_link_to_model_pages(uri: str, href: str | None) -> None:
    assert model_href(uri) == href


def test_summary_numbers_format_whether_whole_or_not() -> None:
    # A report's summary holds ints as well as floats (a column count next to a share).
    assert [format_number(v) for v in (4, 0.5, 2.0, 1 / 3)] == ["4", "0.5", "2", "0.33333"]
