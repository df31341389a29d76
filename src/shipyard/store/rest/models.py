"""The model registry half of RestStore, over ``/api/v1/models``, ``/api/v1/evaluations``
and ``/api/v1/references/model-digests``.

Names, aliases and version references become URL path segments, so they are
checked here first: a name holding ``/`` must not reach another route. Creates
carry an ``Idempotency-Key``, so a retried request is applied once.
"""

from __future__ import annotations

import enum
import numbers
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from shipyard.entities import (
    AliasEvent,
    Evaluation,
    ModelVersion,
    ModelVersionStatus,
    Page,
    PromotionDecision,
    RegisteredModel,
)
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.models_base import (
    LATEST,
    ModelRegistryStore,
    normalize_model_ref,
    validate_model_alias,
    validate_model_name,
)
from shipyard.store.rest.codec import encode_float
from shipyard.store.rest.http import IDEMPOTENCY_HEADER, HttpClient
from shipyard.store.rest.models_codec import (
    alias_event_from_json,
    evaluation_from_json,
    model_version_from_json,
    promotion_decision_from_json,
    registered_model_from_json,
)

__all__ = ["RestModelRegistryStore"]

API = "/api/v1"


def _model(name: str) -> str:
    return f"/models/{quote(validate_model_name(name), safe='')}"


def _version_number(version: object) -> str:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError(f"version must be an integer, got {version!r}")
    return str(version)


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{_version_number(version)}"


def _alias(name: str, alias: str) -> str:
    return f"{_model(name)}/aliases/{validate_model_alias(alias)}"


def _wire(value: object) -> object:
    """An enum's value; anything else as given, for the server to accept or refuse."""
    return value.value if isinstance(value, enum.Enum) else value


def _mapping(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _number(value: object) -> object:
    """A real number (numpy's too) as a JSON float, NaN and infinities as strings."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | int):
        return encode_float(float(value))
    return value


def _scores(value: object) -> object:
    if not isinstance(value, Mapping):
        return value
    return {key: _number(score) for key, score in value.items()}


def _new_key() -> dict[str, str]:
    return {IDEMPOTENCY_HEADER: uuid.uuid4().hex}


class RestModelRegistryStore(ModelRegistryStore):
    """Mixin of :class:`shipyard.store.rest.store.RestStore`; not usable on its own."""

    _http: HttpClient

    def _mr_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._http.request(method, API + path, **kwargs).json()

    def _mr_call(self, method: str, path: str, **kwargs: Any) -> None:
        self._http.request(method, API + path, **kwargs)

    # -- registered models -----------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": _mapping(tags)}
        data = self._mr_json("POST", "/models", json_body=body, headers=_new_key())
        return registered_model_from_json(data)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return registered_model_from_json(self._mr_json("GET", _model(name)))

    def list_registered_models(
        self,
        name_like: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        params = {"name_like": name_like, "max_results": max_results, "page_token": page_token}
        data = self._mr_json("GET", "/models", params=params)
        return Page(
            [registered_model_from_json(item) for item in data["registered_models"]],
            data.get("next_page_token"),
        )

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        data = self._mr_json("PATCH", _model(name), json_body={"description": description})
        return registered_model_from_json(data)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._mr_call("PUT", f"{_model(name)}/tags", json_body={"key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._mr_call("DELETE", f"{_model(name)}/tags", params={"key": key})

    # -- versions ----------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        package_digest: str,
        run_id: str | None = None,
        flavor: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        user: str | None = None,
        idempotency_key: str | None = None,
    ) -> ModelVersion:
        body = {
            "source": source,
            "package_digest": package_digest,
            "run_id": run_id,
            "flavor": flavor,
            "description": description,
            "tags": _mapping(tags),
            "user": user,
        }
        key = idempotency_key or uuid.uuid4().hex
        data = self._mr_json(
            "POST",
            f"{_model(name)}/versions",
            json_body=body,
            headers={IDEMPOTENCY_HEADER: key},
        )
        return model_version_from_json(data)

    def get_model_version(self, name: str, ref: int | str | None = None) -> ModelVersion:
        path = _model(name)
        wanted = normalize_model_ref(ref)
        segment = LATEST if wanted is None else quote(str(wanted), safe="")
        return model_version_from_json(self._mr_json("GET", f"{path}/versions/{segment}"))

    def list_model_versions(
        self, name: str, status: ModelVersionStatus | None = None
    ) -> list[ModelVersion]:
        data = self._mr_json("GET", f"{_model(name)}/versions", params={"status": _wire(status)})
        return [model_version_from_json(item) for item in data["versions"]]

    def update_model_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: ModelVersionStatus | None = None,
    ) -> ModelVersion:
        body = {"description": description, "status": _wire(status)}
        return model_version_from_json(
            self._mr_json("PATCH", _version(name, version), json_body=body)
        )

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        path = f"{_version(name, version)}/tags"
        self._mr_call("PUT", path, json_body={"key": key, "value": value})

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self._mr_call("DELETE", f"{_version(name, version)}/tags", params={"key": key})

    # -- aliases -------------------------------------------------------------------
    def set_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        body = {"version": version, "user": user, "reason": reason}
        # Setting an alias to the version it names records nothing, so a retry is safe.
        data = self._mr_json("PUT", _alias(name, alias), json_body=body)
        return alias_event_from_json(data)

    def delete_model_alias(
        self, name: str, alias: str, user: str | None = None, reason: str | None = None
    ) -> AliasEvent:
        params = {"user": user, "reason": reason}
        return alias_event_from_json(self._mr_json("DELETE", _alias(name, alias), params=params))

    def list_alias_events(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"alias": None if alias is None else validate_model_alias(alias)}
        data = self._mr_json("GET", f"{_model(name)}/alias-events", params=params)
        return [alias_event_from_json(item) for item in data["events"]]

    # -- evaluations and promotion decisions ---------------------------------------
    def log_evaluation(
        self,
        model_uri: str,
        task: str,
        target: str,
        metrics: Mapping[str, float],
        details: Mapping[str, Any],
        plots: Mapping[str, str],
        row_count: int,
        model_name: str | None = None,
        model_version: int | None = None,
        dataset: str | None = None,
        dataset_version: int | None = None,
        user: str | None = None,
    ) -> Evaluation:
        body = {
            "model_uri": model_uri,
            "task": task,
            "target": target,
            "metrics": _scores(metrics),
            "details": _mapping(details),
            "plots": _mapping(plots),
            "row_count": row_count,
            "model_name": model_name,
            "model_version": model_version,
            "dataset": dataset,
            "dataset_version": dataset_version,
            "user": user,
        }
        data = self._mr_json("POST", "/evaluations", json_body=body, headers=_new_key())
        return evaluation_from_json(data)

    def get_evaluation(self, evaluation_id: str) -> Evaluation:
        if not isinstance(evaluation_id, str):
            raise InvalidInputError(
                f"evaluation id must be a string, got {type(evaluation_id).__name__}"
            )
        if not evaluation_id or "/" in evaluation_id or evaluation_id in (".", ".."):
            raise NotFoundError(f"no evaluation with id {evaluation_id!r}")
        path = f"/evaluations/{quote(evaluation_id, safe='')}"
        return evaluation_from_json(self._mr_json("GET", path))

    def list_evaluations(self, name: str, version: int | None = None) -> list[Evaluation]:
        params = {"version": None if version is None else _version_number(version)}
        data = self._mr_json("GET", f"{_model(name)}/evaluations", params=params)
        return [evaluation_from_json(item) for item in data["evaluations"]]

    def log_promotion_decision(
        self,
        name: str,
        alias: str,
        candidate_version: int,
        incumbent_version: int | None,
        metric: str,
        greater_is_better: bool,
        candidate_score: float,
        incumbent_score: float | None,
        min_delta: float,
        thresholds: Mapping[str, float],
        promoted: bool,
        reason: str,
        candidate_evaluation_id: str,
        incumbent_evaluation_id: str | None,
        dataset: str | None = None,
        dataset_version: int | None = None,
        user: str | None = None,
    ) -> PromotionDecision:
        body = {
            "alias": alias,
            "candidate_version": candidate_version,
            "incumbent_version": incumbent_version,
            "metric": metric,
            "greater_is_better": greater_is_better,
            "candidate_score": _number(candidate_score),
            "incumbent_score": _number(incumbent_score),
            "min_delta": _number(min_delta),
            "thresholds": _scores(thresholds),
            "promoted": promoted,
            "reason": reason,
            "candidate_evaluation_id": candidate_evaluation_id,
            "incumbent_evaluation_id": incumbent_evaluation_id,
            "dataset": dataset,
            "dataset_version": dataset_version,
            "user": user,
        }
        data = self._mr_json(
            "POST", f"{_model(name)}/promotions", json_body=body, headers=_new_key()
        )
        return promotion_decision_from_json(data)

    def list_promotion_decisions(
        self, name: str, alias: str | None = None
    ) -> list[PromotionDecision]:
        params = {"alias": None if alias is None else validate_model_alias(alias)}
        data = self._mr_json("GET", f"{_model(name)}/promotions", params=params)
        return [promotion_decision_from_json(item) for item in data["decisions"]]

    # -- garbage collection ----------------------------------------------------------
    def model_referenced_digests(self) -> set[str]:
        return set(self._mr_json("GET", "/references/model-digests")["digests"])
