"""``POST /v2/models/{name}/feedback`` on a real model server: true labels sent by the
request ids the server answered with are joined to the logged predictions."""

from __future__ import annotations

import httpx
import numpy as np

from shipyard.monitoring.feedback import log_feedback
from shipyard.monitoring.prediction_log import read_prediction_logs
from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry, assert_error
from tests.serving.support import serve_in_thread

SERVED = "models:/digits@production"


def _v2_body(x: np.ndarray) -> dict[str, object]:
    tensor = {"name": "input", "datatype": "FP64", "shape": list(x.shape), "data": x.tolist()}
    return {"inputs": [tensor]}


def test_labels_sent_to_the_server_are_joined_to_its_logged_predictions(
    registry: Registry,
) -> None:
    x = registry.x[300:310]
    y = registry.expected("digits", 1, x)  # what v1 answers: labels the test can predict
    app = create_serving_app(ServeConfig(SERVED, poll_interval=0), client=registry.client)
    singles: list[str] = []
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        for i in range(3):
            response = http.post("/v2/models/digits/infer", json=_v2_body(x[i : i + 1]))
            assert response.status_code == 200, response.text
            singles.append(response.headers["x-request-id"])
        response = http.post("/invocations", json={"instances": x[3:7].tolist()})
        assert response.status_code == 200, response.text
        batch = response.headers["x-request-id"]
        python_sent = http.post("/invocations", json={"instances": x[7:8].tolist()})
        unlabelled = http.post("/invocations", json={"instances": x[8:9].tolist()})
        assert len({*singles, batch, python_sent.headers["x-request-id"]}) == 5

        items = [{"request_id": rid, "label": int(y[i])} for i, rid in enumerate(singles)]
        # A request of several rows takes one label per row, as a list.
        items.append({"request_id": batch, "label": [int(label) for label in y[3:7]]})
        response = http.post("/v2/models/digits/feedback", json={"items": items})
        assert response.status_code == 200, response.text
        assert response.json() == {"recorded": 4}
        # One item alone is a body too; sending a label again replaces it.
        again = {"request_id": singles[0], "label": 9}
        assert http.post("/v2/models/digits/feedback", json=again).json() == {"recorded": 1}

        # From Python, by the id the server answered with.
        log_feedback(
            python_sent.headers["x-request-id"], int(y[7]), "digits", client=registry.client
        )

    # Leaving the server closed its prediction logger, which stored what it held.
    table = read_prediction_logs(registry.client, "digits", with_feedback=True)
    ours = {*singles, batch, python_sent.headers["x-request-id"]}
    unlabelled_id = unlabelled.headers["x-request-id"]
    rows = {
        (row["request_id"], row["row"]): row
        for row in table.to_pylist()
        if row["request_id"] in ours | {unlabelled_id}
    }
    assert len(rows) == 9
    assert rows[(singles[0], 0)]["label"] == 9
    for i, rid in enumerate(singles[1:], start=1):
        assert rows[(rid, 0)]["label"] == y[i] == rows[(rid, 0)]["prediction"]
    assert [rows[(batch, j)]["label"] for j in range(4)] == list(y[3:7])
    assert [rows[(batch, j)]["prediction"] for j in range(4)] == list(y[3:7])
    assert rows[(python_sent.headers["x-request-id"], 0)]["label"] == y[7]
    assert rows[(unlabelled_id, 0)]["label"] is None


BAD_BODIES = [
    (b"{not json", "must be JSON"),
    (b'{"request_id": "r-1"}', "request_id and label"),
    (b'{"request_id": "r-1", "label": null}', "null"),
    (b'{"request_id": "r-1", "label": 1, "score": 0.5}', "unknown fields"),
    (b'[{"request_id": "", "label": 1}]', "request id"),
]


def test_a_bad_feedback_request_is_a_4xx_json_error(registry: Registry) -> None:
    app = create_serving_app(
        ServeConfig(SERVED, poll_interval=0, log_predictions=False), client=registry.client
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        response = http.post("/v2/models/cats/feedback", json={"request_id": "r-1", "label": 1})
        assert_error(response, 404, "NOT_FOUND", "cats")
        for body, needle in BAD_BODIES:
            response = http.post(
                "/v2/models/digits/feedback",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert_error(response, 400, "INVALID_INPUT", needle)
        # The route is listed in the server's OpenAPI document.
        paths = http.get("/openapi.json").json()["paths"]
        assert "post" in paths["/v2/models/{model_name}/feedback"]
    for name in ("cats", "digits"):
        assert registry.client.store.get_feedback(name, ["r-1"]) == []
