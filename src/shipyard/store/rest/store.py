"""``RestStore``: the :class:`Store` interface spoken over the server's REST API."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from shipyard.entities import (
    ArtifactEntry,
    Experiment,
    Metric,
    Page,
    Param,
    Run,
    RunKeys,
    RunStatus,
    Tag,
    ViewType,
)
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.base import DEFAULT_PAGE_SIZE, Store
from shipyard.store.rest.codec import (
    artifact_from_json,
    artifact_to_json,
    encode_floats,
    experiment_from_json,
    history_from_json,
    run_from_json,
)
from shipyard.store.rest.datasets import RestDatasetStore
from shipyard.store.rest.http import IDEMPOTENCY_HEADER, HttpClient, RetryPolicy
from shipyard.store.rest.models import RestModelRegistryStore
from shipyard.store.rest.monitoring import RestMonitoringStore
from shipyard.validation import validate_metric_value

__all__ = ["RestStore"]

API = "/api/v1"


def _seg(value: object, what: str) -> str:
    """An id as one path segment.

    The server routes on the decoded path, so an id holding ``/`` (or one that
    is empty, ``.`` or ``..``) could reach another route: such an id names
    nothing, and is refused here the way the server would refuse it.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} id must be a string, got {type(value).__name__}")
    if not value or "/" in value or value in (".", ".."):
        raise NotFoundError(f"no {what} with id {value!r}")
    return quote(value, safe="")


def _exp(experiment_id: str) -> str:
    return f"/experiments/{_seg(experiment_id, 'experiment')}"


def _run(run_id: str) -> str:
    return f"/runs/{_seg(run_id, 'run')}"


def _wire(value: object) -> object:
    """An enum's value; anything else as given, for the server to accept or refuse."""
    return value.value if isinstance(value, enum.Enum) else value


def _columns(
    keys: Sequence[str], values: Sequence[float], steps: Sequence[int], timestamps: Sequence[int]
) -> dict[str, Any]:
    """The columnar wire form of metric points; the server checks all but the values."""
    if not len(keys) == len(values) == len(steps) == len(timestamps):
        raise InvalidInputError(
            "metric keys, values, steps and timestamps must have one length, got "
            f"{len(keys)}, {len(values)}, {len(steps)} and {len(timestamps)}"
        )
    if set(map(type, values)) != {float}:
        # A string would pass for "NaN" on the wire: refuse it here, as SqlStore does.
        values = [
            validate_metric_value(value, key) for key, value in zip(keys, values, strict=True)
        ]
    return {
        "keys": keys,
        "values": encode_floats(values),
        "steps": steps,
        "timestamps": timestamps,
    }


def _new_key() -> dict[str, str]:
    return {IDEMPOTENCY_HEADER: uuid.uuid4().hex}


class RestStore(RestDatasetStore, RestModelRegistryStore, RestMonitoringStore, Store):
    """A :class:`Store` backed by a ``shipyard server``.

    Creates and ``log_batch`` carry an ``Idempotency-Key``, so the retries of
    :class:`HttpClient` store a request once even when an answer was lost.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = HttpClient(self.base_url, token, timeout=timeout, retry=retry)

    def close(self) -> None:
        self._http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.request(method, API + path, **kwargs).json()

    def _call(self, method: str, path: str, **kwargs: Any) -> None:
        self._http.request(method, API + path, **kwargs)

    # -- experiments -------------------------------------------------------
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        body = {"name": name, "tags": tags}
        return experiment_from_json(
            self._json("POST", "/experiments", json_body=body, headers=_new_key())
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_json(self._json("GET", _exp(experiment_id)))

    def get_experiment_by_name(self, name: str) -> Experiment:
        return experiment_from_json(
            self._json("GET", "/experiments/by-name", params={"name": name})
        )

    def list_experiments(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        params = {"view": _wire(view), "max_results": max_results}
        data = self._json("GET", "/experiments", params={**params, "page_token": page_token})
        return Page(
            [experiment_from_json(item) for item in data["experiments"]],
            data.get("next_page_token"),
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        return experiment_from_json(
            self._json("PATCH", _exp(experiment_id), json_body={"name": new_name})
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("DELETE", _exp(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("POST", f"{_exp(experiment_id)}/restore")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._call(
            "PUT",
            f"{_exp(experiment_id)}/tags",
            json_body={"key": key, "value": value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._call("DELETE", f"{_exp(experiment_id)}/tags", params={"key": key})

    # -- runs --------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
    ) -> Run:
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": tags,
            "parent_run_id": parent_run_id,
            "start_time": start_time,
            "user": user,
        }
        return run_from_json(self._json("POST", "/runs", json_body=body, headers=_new_key()))

    def get_run(self, run_id: str) -> Run:
        return run_from_json(self._json("GET", _run(run_id)))

    def update_run(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> Run:
        body = {
            "status": _wire(status),
            "end_time": end_time,
            "name": name,
        }
        return run_from_json(self._json("PATCH", _run(run_id), json_body=body))

    def delete_run(self, run_id: str) -> None:
        self._call("DELETE", _run(run_id))

    def restore_run(self, run_id: str) -> None:
        self._call("POST", f"{_run(run_id)}/restore")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[Tag] = (),
        idempotency_key: str | None = None,
    ) -> None:
        metrics = list(metrics)
        body: dict[str, Any] = {
            "metrics": _columns(
                [m.key for m in metrics],
                [m.value for m in metrics],
                [m.step for m in metrics],
                [m.timestamp for m in metrics],
            )
            if metrics
            else [],
            "params": [{"key": p.key, "value": p.value} for p in params],
            "tags": [{"key": t.key, "value": t.value} for t in tags],
        }
        self._log_batch(run_id, body, idempotency_key)

    def log_metric_columns(
        self,
        run_id: str,
        keys: Sequence[str],
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
        idempotency_key: str | None = None,
    ) -> None:
        body = {"metrics": _columns(keys, values, steps, timestamps)}
        self._log_batch(run_id, body, idempotency_key)

    def _log_batch(self, run_id: str, body: dict[str, Any], idempotency_key: str | None) -> None:
        key = idempotency_key or uuid.uuid4().hex
        self._call(
            "POST",
            f"{_run(run_id)}/log-batch",
            json_body=body,
            headers={IDEMPOTENCY_HEADER: key},
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call("DELETE", f"{_run(run_id)}/tags", params={"key": key})

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[Metric]:
        data = self._json(
            "GET",
            f"{_run(run_id)}/metrics/history",
            params={"key": key, "max_points": max_points},
        )
        return history_from_json(data)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Run]:
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "order_by": None if order_by is None else list(order_by),
            "view": _wire(view),
            "max_results": max_results,
            "page_token": page_token,
        }
        data = self._json("POST", "/runs/search", json_body=body, idempotent=True)
        return Page([run_from_json(item) for item in data["runs"]], data.get("next_page_token"))

    def list_run_keys(self, experiment_ids: Sequence[str]) -> RunKeys:
        if isinstance(experiment_ids, str) or not isinstance(experiment_ids, Sequence):
            raise InvalidInputError("experiment_ids must be a list of experiment ids")
        for experiment_id in experiment_ids:  # the query string would make a string of any
            if not isinstance(experiment_id, str):
                raise InvalidInputError(
                    f"experiment id must be a non-empty string, got {experiment_id!r}"
                )
        data = self._json("GET", "/runs/keys", params={"experiment_id": list(experiment_ids)})
        return RunKeys(metrics=data["metrics"], params=data["params"], tags=data["tags"])

    # -- artifacts ---------------------------------------------------------
    def log_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        self._call(
            "POST",
            f"{_run(run_id)}/artifacts",
            json_body={"entries": [artifact_to_json(entry) for entry in entries]},
            idempotent=True,  # recording the same entries again changes nothing
        )

    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[ArtifactEntry]:
        data = self._json("GET", f"{_run(run_id)}/artifacts", params={"prefix": prefix})
        return [artifact_from_json(item) for item in data["artifacts"]]

    def get_artifact(self, run_id: str, path: str) -> ArtifactEntry:
        return artifact_from_json(
            self._json("GET", f"{_run(run_id)}/artifacts/entry", params={"path": path})
        )
