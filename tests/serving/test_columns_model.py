"""A model over a table (a text and an integer column): one V2 input per column, text as
BYTES, sent by tritonclient in binary and in JSON, and MLflow records and CSV."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry, assert_v2_error
from tests.serving.support import serve_in_thread

CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Zürich"]


@pytest.fixture(scope="module")
def people(registry: Registry) -> Iterator[tuple[str, Any, pd.DataFrame]]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"city": rng.choice(CITIES, 400), "age": rng.integers(18, 80, 400).astype(np.int64)}
    )
    label = (frame.city.isin(["Oslo", "Kyiv"]) ^ (frame.age > 40)).astype(int)
    encode = ColumnTransformer(
        [("city", OneHotEncoder(handle_unknown="ignore"), ["city"])], remainder="passthrough"
    )
    model = make_pipeline(encode, DecisionTreeClassifier(random_state=0)).fit(frame, label)
    with registry.client.start_run(experiment="serving-tests", capture=False) as run:
        run.log_model(model, input_example=frame.head(3), registered_model_name="people")
    config = ServeConfig("models:/people/1", log_predictions=False, poll_interval=0)
    app = create_serving_app(config, client=registry.client)
    with serve_in_thread(app) as url:
        yield url, model, frame.sample(12, random_state=1).reset_index(drop=True)


def test_metadata_lists_one_input_per_column(people: tuple[str, Any, pd.DataFrame]) -> None:
    url, _, _ = people
    meta = httpx.get(f"{url}/v2/models/people").json()
    assert meta["inputs"] == [
        {"name": "city", "datatype": "BYTES", "shape": [-1]},
        {"name": "age", "datatype": "INT64", "shape": [-1]},
    ]


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_with_bytes_columns(
    people: tuple[str, Any, pd.DataFrame], binary: bool
) -> None:
    url, model, rows = people
    client = triton.InferenceServerClient(url.removeprefix("http://"))
    try:
        city = triton.InferInput("city", [len(rows)], "BYTES")
        city.set_data_from_numpy(rows.city.to_numpy(dtype=object), binary_data=binary)
        age = triton.InferInput("age", [len(rows), 1], "INT64")
        age.set_data_from_numpy(rows.age.to_numpy().reshape(-1, 1), binary_data=binary)
        outputs = [triton.InferRequestedOutput("predictions", binary_data=binary)]
        result = client.infer("people", [city, age], outputs=outputs)
        np.testing.assert_array_equal(result.as_numpy("predictions"), model.predict(rows))
    finally:
        client.close()


def test_mlflow_records_and_csv(people: tuple[str, Any, pd.DataFrame]) -> None:
    url, model, rows = people
    expected = model.predict(rows).tolist()
    records = rows.to_dict(orient="records")
    response = httpx.post(f"{url}/invocations", json={"dataframe_records": records})
    assert response.json() == {"predictions": expected}
    split = {"columns": ["age", "city"], "data": rows[["age", "city"]].values.tolist()}
    response = httpx.post(f"{url}/invocations", json={"dataframe_split": split})
    assert response.json() == {"predictions": expected}
    response = httpx.post(
        f"{url}/invocations",
        content=rows.to_csv(index=False).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.json() == {"predictions": expected}


def test_column_mistakes_are_named(people: tuple[str, Any, pd.DataFrame]) -> None:
    url, _, _ = people
    infer = f"{url}/v2/models/people/infer"
    city = {"name": "city", "datatype": "BYTES", "shape": [2], "data": ["Oslo", "Lima"]}
    age = {"name": "age", "datatype": "INT64", "shape": [2], "data": [30, 50]}
    assert_v2_error(httpx.post(infer, json={"inputs": [city]}), 400, "missing input 'age'")
    short = {**age, "shape": [1], "data": [30]}
    assert_v2_error(httpx.post(infer, json={"inputs": [city, short]}), 400, "1 rows", "have 2")
    text_age = {**age, "datatype": "BYTES", "data": ["thirty", "fifty"]}
    assert_v2_error(httpx.post(infer, json={"inputs": [city, text_age]}), 400, "'age'")
    response = httpx.post(f"{url}/invocations", json={"dataframe_records": [{"city": "Oslo"}]})
    assert response.status_code == 400 and "'age'" in response.json()["error"]["message"]
