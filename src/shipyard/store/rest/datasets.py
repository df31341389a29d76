"""The dataset half of RestStore, over ``/api/v1/datasets``, ``/runs/{id}/inputs`` and
``/references``.

Names, tags and version references become URL path segments, so they are
checked here first: a name holding ``/`` must not reach another route.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from shipyard.entities import Dataset, DatasetVersion, Page, RunInput, ViewType
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.datasets_base import (
    LATEST,
    DatasetStore,
    normalize_ref,
    validate_dataset_name,
    validate_version_tag,
)
from shipyard.store.rest.codec import (
    dataset_from_json,
    dataset_version_from_json,
    run_input_from_json,
)
from shipyard.store.rest.http import IDEMPOTENCY_HEADER, HttpClient

__all__ = ["RestDatasetStore"]

API = "/api/v1"


def _dataset(name: str) -> str:
    return f"/datasets/{quote(validate_dataset_name(name), safe='')}"


def _number(version: object) -> str:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError(f"version must be an integer, got {version!r}")
    return str(version)


def _version(name: str, version: int) -> str:
    return f"{_dataset(name)}/versions/{_number(version)}"


def _run(run_id: object) -> str:
    if not isinstance(run_id, str):
        raise InvalidInputError(f"run id must be a string, got {type(run_id).__name__}")
    if not run_id or "/" in run_id or run_id in (".", ".."):
        raise NotFoundError(f"no run with id {run_id!r}")
    return f"/runs/{quote(run_id, safe='')}"


def _listed(items: object) -> object:
    """A sequence as a JSON list; anything else as given, for the server to refuse."""
    if isinstance(items, Sequence) and not isinstance(items, str | bytes):
        return list(items)
    return items


class RestDatasetStore(DatasetStore):
    """Mixin of :class:`shipyard.store.rest.store.RestStore`; not usable on its own."""

    _http: HttpClient

    def _ds_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.request(method, API + path, **kwargs).json()

    def _ds_call(self, method: str, path: str, **kwargs: Any) -> None:
        self._http.request(method, API + path, **kwargs)

    # -- versions --------------------------------------------------------------
    def create_dataset_version(
        self,
        name: str,
        manifest_digest: str,
        file_count: int,
        total_size: int,
        message: str | None = None,
        author: str | None = None,
        tags: Sequence[str] = (),
        profile: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[DatasetVersion, bool]:
        body = {
            "manifest_digest": manifest_digest,
            "file_count": file_count,
            "total_size": total_size,
            "message": message,
            "author": author,
            "tags": _listed(tags),
            "profile": profile,
        }
        key = idempotency_key or uuid.uuid4().hex
        data = self._ds_json(
            "POST",
            f"{_dataset(name)}/versions",
            json_body=body,
            headers={IDEMPOTENCY_HEADER: key},
        )
        return dataset_version_from_json(data["dataset_version"]), bool(data["created"])

    def get_dataset(self, name: str) -> Dataset:
        return dataset_from_json(self._ds_json("GET", _dataset(name)))

    def list_datasets(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[Dataset]:
        params = {
            "view": view.value if isinstance(view, enum.Enum) else view,
            "max_results": max_results,
            "page_token": page_token,
        }
        data = self._ds_json("GET", "/datasets", params=params)
        return Page(
            [dataset_from_json(item) for item in data["datasets"]], data.get("next_page_token")
        )

    def get_dataset_version(self, name: str, ref: int | str | None = None) -> DatasetVersion:
        path = _dataset(name)
        wanted = normalize_ref(ref)
        segment = LATEST if wanted is None else quote(str(wanted), safe="")
        return dataset_version_from_json(self._ds_json("GET", f"{path}/versions/{segment}"))

    def list_dataset_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE
    ) -> list[DatasetVersion]:
        params = {"view": view.value if isinstance(view, enum.Enum) else view}
        data = self._ds_json("GET", f"{_dataset(name)}/versions", params=params)
        return [dataset_version_from_json(item) for item in data["versions"]]

    def tag_dataset_version(self, name: str, version: int, tag: str) -> None:
        path = f"{_dataset(name)}/version-tags/{validate_version_tag(tag)}"
        self._ds_call("PUT", path, json_body={"version": version})

    def untag_dataset_version(self, name: str, tag: str) -> None:
        self._ds_call("DELETE", f"{_dataset(name)}/version-tags/{validate_version_tag(tag)}")

    def delete_dataset_version(self, name: str, version: int) -> None:
        self._ds_call("DELETE", _version(name, version))

    def restore_dataset_version(self, name: str, version: int) -> None:
        self._ds_call("POST", f"{_version(name, version)}/restore", idempotent=True)

    def set_dataset_version_profile(self, name: str, version: int, profile: dict[str, Any]) -> None:
        self._ds_call("PUT", f"{_version(name, version)}/profile", json_body={"profile": profile})

    def set_dataset_description(self, name: str, description: str | None) -> Dataset:
        data = self._ds_json("PATCH", _dataset(name), json_body={"description": description})
        return dataset_from_json(data)

    def set_dataset_tag(self, name: str, key: str, value: str) -> None:
        self._ds_call("PUT", f"{_dataset(name)}/tags", json_body={"key": key, "value": value})

    def delete_dataset_tag(self, name: str, key: str) -> None:
        self._ds_call("DELETE", f"{_dataset(name)}/tags", params={"key": key})

    # -- lineage ---------------------------------------------------------------
    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, int]]) -> None:
        items = _listed(inputs)
        if isinstance(items, list):
            body: Any = [
                {"dataset": item[0], "version": item[1]}
                if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2
                else item
                for item in items
            ]
        else:
            body = items
        # Recording the same inputs again changes nothing, so a retry is safe.
        self._ds_call("POST", f"{_run(run_id)}/inputs", json_body={"inputs": body}, idempotent=True)

    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        data = self._ds_json("GET", f"{_run(run_id)}/inputs")
        return [run_input_from_json(item) for item in data["inputs"]]

    def get_dataset_version_runs(self, name: str, version: int) -> list[str]:
        data = self._ds_json("GET", f"{_version(name, version)}/runs")
        return list(data["run_ids"])

    # -- garbage collection ----------------------------------------------------
    def referenced_digests(self) -> set[str]:
        return set(self._ds_json("GET", "/references/digests")["digests"])

    def live_manifest_digests(self) -> set[str]:
        return set(self._ds_json("GET", "/references/manifests")["digests"])
