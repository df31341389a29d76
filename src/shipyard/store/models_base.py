"""The metadata interface of the model registry, evaluations and promotion decisions.

``Store`` inherits it, so every store (SQL, REST) holds registered models next
to runs and datasets. A version's files are not stored here: they are run
artifacts (``runs:/<run-id>/model``) whose manifest digest the version pins.

Names and references::

    model name   letters, digits and ``_ - .`` (URI-safe: no ``/`` or ``@``)
    alias        the same characters, not all digits, not ``latest``
    ref          None or "latest" -> newest READY version; 3 or "3" -> number 3;
                 any other string -> the version the alias names
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from typing import Any

from shipyard.entities import (
    AliasEvent,
    Evaluation,
    ModelVersion,
    ModelVersionStatus,
    Page,
    PromotionDecision,
    RegisteredModel,
)
from shipyard.errors import InvalidInputError
from shipyard.validation import MAX_KEY_LENGTH, validate_name

__all__ = [
    "LATEST",
    "ModelRegistryStore",
    "normalize_model_ref",
    "validate_model_alias",
    "validate_model_name",
]

LATEST = "latest"

# Same default page size as shipyard.store.base.DEFAULT_PAGE_SIZE; base imports this
# module, so it cannot import base.
_DEFAULT_PAGE_SIZE = 100

_URI_SAFE_RE = re.compile(r"[A-Za-z0-9_.\-]+")


def validate_model_name(name: object) -> str:
    """A model name that fits in ``models:/NAME/N`` and ``models:/NAME@ALIAS``."""
    name = validate_name(name, "model name")
    if not _URI_SAFE_RE.fullmatch(name):
        raise InvalidInputError(f"model name {name!r} may contain only letters, digits and _ - .")
    if name in (".", ".."):
        raise InvalidInputError(f"model name {name!r} is reserved")
    return name


def validate_model_alias(alias: object) -> str:
    """An alias: URI-safe, never a number (that would read as a version) nor ``latest``."""
    if not isinstance(alias, str):
        raise InvalidInputError(f"alias must be a string, got {type(alias).__name__}")
    if not alias:
        raise InvalidInputError("alias must not be empty")
    if len(alias) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"alias is {len(alias)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    if not _URI_SAFE_RE.fullmatch(alias):
        raise InvalidInputError(f"alias {alias!r} may contain only letters, digits and _ - .")
    if alias.isdigit():
        raise InvalidInputError(f"alias {alias!r} must not be a number: it would read as a version")
    if alias in (".", ".."):
        raise InvalidInputError(f"alias {alias!r} is reserved")
    if alias == LATEST:
        raise InvalidInputError(f"alias {LATEST!r} is reserved: it always names the newest version")
    return alias


def normalize_model_ref(ref: object) -> int | str | None:
    """``None`` for latest, an ``int`` for a version number, or a validated alias."""
    if ref is None or ref == LATEST:
        return None
    if isinstance(ref, bool):
        raise InvalidInputError(f"version reference must be a number or an alias, got {ref!r}")
    if isinstance(ref, int):
        if ref < 1:
            raise InvalidInputError(f"version numbers start at 1, got {ref}")
        return ref
    if isinstance(ref, str) and ref.isascii() and ref.isdigit():
        return normalize_model_ref(int(ref))
    return validate_model_alias(ref)


class ModelRegistryStore(abc.ABC):
    """Registered models, their versions and aliases (with an audit trail), evaluations
    and promotion decisions."""

    # -- registered models -----------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        """``AlreadyExistsError`` when the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """``NotFoundError`` naming the model when absent."""

    @abc.abstractmethod
    def list_registered_models(
        self,
        name_like: str | None = None,
        max_results: int = _DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models ordered by name; ``name_like`` is a case-insensitive SQL LIKE pattern."""

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    # -- versions ----------------------------------------------------------------
    @abc.abstractmethod
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
        """Register a package as the model's next version (1, 2, ...); the model is created
        on first use. Two writers never get the same number. A request whose
        ``idempotency_key`` was already applied returns the version it created."""

    @abc.abstractmethod
    def get_model_version(self, name: str, ref: int | str | None = None) -> ModelVersion:
        """Resolve ``ref`` (see the module docstring). Numbers find archived versions too;
        ``NotFoundError`` names the model, number or alias that is missing."""

    @abc.abstractmethod
    def list_model_versions(
        self, name: str, status: ModelVersionStatus | None = None
    ) -> list[ModelVersion]:
        """Versions in ascending order of number; ``status`` filters."""

    @abc.abstractmethod
    def update_model_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: ModelVersionStatus | None = None,
    ) -> ModelVersion:
        """Change the description (when given) or the status. Archiving a version that an
        alias names raises ``ConflictError`` naming the alias: move it first."""

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None: ...

    # -- aliases -------------------------------------------------------------------
    @abc.abstractmethod
    def set_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        """Point ``alias`` at ``version`` (moving it off any other) and record the move.
        An archived version refuses aliases (``ConflictError``). Setting an alias to the
        version it already names records nothing and returns the last event."""

    @abc.abstractmethod
    def delete_model_alias(
        self, name: str, alias: str, user: str | None = None, reason: str | None = None
    ) -> AliasEvent:
        """Remove the alias and record it; ``NotFoundError`` when the model has no such alias."""

    @abc.abstractmethod
    def list_alias_events(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """The audit trail of the model's aliases (or one alias), oldest first."""

    # -- evaluations and promotion decisions ---------------------------------------
    @abc.abstractmethod
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
        """Store an evaluation; every digest in ``plots`` must already be in the blob store."""

    @abc.abstractmethod
    def get_evaluation(self, evaluation_id: str) -> Evaluation: ...

    @abc.abstractmethod
    def list_evaluations(self, name: str, version: int | None = None) -> list[Evaluation]:
        """Evaluations of the model's versions (or one version), newest first."""

    @abc.abstractmethod
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
        """Record a gate's decision. It does not move the alias: a promoting caller calls
        :meth:`set_model_alias` first, with the decision's reason."""

    @abc.abstractmethod
    def list_promotion_decisions(
        self, name: str, alias: str | None = None
    ) -> list[PromotionDecision]:
        """The model's decisions, newest first."""

    # -- garbage collection ----------------------------------------------------------
    @abc.abstractmethod
    def model_referenced_digests(self) -> set[str]:
        """Package manifest digests of every version and every evaluation plot digest;
        ``referenced_digests`` includes them, so ``shipyard gc`` keeps them."""
