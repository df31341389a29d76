"""A canary takes its share of the traffic, and every answer names the version that gave it."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from shipyard.errors import InvalidInputError
from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry
from tests.serving.support import serve_in_thread


@pytest.mark.parametrize(("percent", "requests"), [(10.0, 200), (25.0, 120)])
def test_canary_share(registry: Registry, percent: float, requests: int) -> None:
    config = ServeConfig(
        "models:/digits@production",
        canary_uri="models:/digits@staging",
        canary_percent=percent,
        poll_interval=0,
        log_predictions=False,
    )
    app = create_serving_app(config, client=registry.client)
    x = registry.x[:50]
    expected = {v: registry.expected("digits", v, x).tolist() for v in (1, 2)}
    assert expected[1] != expected[2]
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        versions: Counter[str] = Counter()
        for i in range(requests):
            if i % 2:
                response = http.post("/invocations", json={"instances": x.tolist()})
                predictions = response.json()["predictions"]
            else:
                body = {
                    "inputs": [
                        {"name": "input", "datatype": "FP64", "shape": [50, 64], "data": x.tolist()}
                    ],
                    "outputs": [{"name": "predictions"}],
                }
                response = http.post("/v2/models/digits/infer", json=body)
                assert (
                    response.json()["model_version"] == response.headers["shipyard-model-version"]
                )
                predictions = response.json()["outputs"][0]["data"]
            assert response.status_code == 200, response.text
            version = response.headers["shipyard-model-version"]
            assert predictions == expected[int(version)]
            versions[version] += 1
        assert versions == {"2": requests * percent / 100, "1": requests * (100 - percent) / 100}

        # A version named in the path always answers, whatever the split.
        body = {
            "inputs": [
                {"name": "input", "datatype": "FP64", "shape": [2, 64], "data": x[:2].tolist()}
            ]
        }
        for version in ("1", "2") * 5:
            response = http.post(f"/v2/models/digits/versions/{version}/infer", json=body)
            assert response.json()["model_version"] == version
        assert http.get("/v2/models/digits").json()["versions"] == ["1", "2"]
        assert http.get("/health").json()["versions"] == {"primary": "1", "canary": "2"}


def test_canary_settings_are_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"canary percent must be in 0\.\.100"):
        ServeConfig("models:/digits/1", canary_uri="models:/digits/2", canary_percent=120)
    with pytest.raises(InvalidInputError, match="needs a canary model URI"):
        ServeConfig("models:/digits/1", canary_percent=10)
