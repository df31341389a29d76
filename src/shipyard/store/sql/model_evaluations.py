"""Evaluations, promotion decisions and the blob digests the registry keeps alive: the
rest of :class:`shipyard.store.sql.models.SqlModelRegistryStore`.

An evaluation names the model version and dataset version it scored, and each
must exist when it is written. Its plots are blobs: the REST server checks
they are stored; ``SqlStore`` cannot see blobs, so its callers store them first.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from shipyard.entities import Evaluation, PromotionDecision, now_ms
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store import dataset_checks as dc
from shipyard.store.datasets_base import validate_dataset_name
from shipyard.store.models_base import validate_model_alias, validate_model_name
from shipyard.store.sql import checks
from shipyard.store.sql import dataset_loading as dl
from shipyard.store.sql import model_checks as mc
from shipyard.store.sql import model_loading as ml
from shipyard.store.sql import tables_models as tm
from shipyard.validation import validate_key, validate_name

__all__ = ["SqlModelEvaluations"]

_ev = tm.evaluations
_pd = tm.promotion_decisions


def _optional_version(value: object, what: str, needs: object, needed: str) -> int | None:
    if value is None:
        return None
    if needs is None:
        raise InvalidInputError(f"{what} is given without {needed}")
    return dc.check_version(value)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be true or false, got {value!r}")
    return value


class SqlModelEvaluations:
    """Part of the SqlStore mixin :class:`SqlModelRegistryStore`; not usable on its own."""

    # Provided by SqlStore.
    def _write(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _binary(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        raise NotImplementedError

    def _run_row(self, conn: sa.Connection, run_id: str, *, active: bool = False) -> sa.Row[Any]:
        raise NotImplementedError

    @staticmethod
    def _check_model_links(
        conn: sa.Connection,
        model_name: str | None,
        model_version: int | None,
        dataset: str | None,
        dataset_version: int | None,
    ) -> None:
        """NotFoundError unless the model (version) and dataset (version) named exist."""
        if model_name is not None:
            model = ml.model_row(conn, model_name)
            if model_version is not None:
                ml.version_row(conn, model, model_version)
        if dataset is not None:
            found = dl.dataset_row(conn, dataset)
            if dataset_version is not None:
                dl.version_row(conn, found, dataset_version)

    @staticmethod
    def _model_evaluation_row(conn: sa.Connection, evaluation_id: str) -> sa.Row[Any]:
        row = conn.execute(sa.select(_ev).where(_ev.c.id == evaluation_id)).first()
        if row is None:
            raise NotFoundError(f"no evaluation with id {evaluation_id!r}")
        return row

    # -- evaluations -----------------------------------------------------------
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
        name = None if model_name is None else validate_model_name(model_name)
        dataset = None if dataset is None else validate_dataset_name(dataset)
        values: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "model_uri": mc.check_uri(model_uri, "model URI"),
            "model_name": name,
            "model_version": _optional_version(
                model_version, "model_version", name, "a model name"
            ),
            "dataset": dataset,
            "dataset_version": _optional_version(
                dataset_version, "dataset_version", dataset, "a dataset"
            ),
            "task": validate_name(task, "task"),
            "target": validate_name(target, "target"),
            "metrics": mc.encode_metrics(mc.check_metrics(metrics)),
            "details": mc.check_details(details),
            "plots": mc.check_plots(plots),
            "row_count": dc.check_count(row_count, "row count"),
            "user": mc.check_optional_name(user, "user"),
            "created_at": now_ms(),
        }
        with self._write() as conn:
            self._check_model_links(
                conn, name, values["model_version"], dataset, values["dataset_version"]
            )
            conn.execute(_ev.insert().values(**values))
            return ml.evaluation_from_row(self._model_evaluation_row(conn, values["id"]))

    def get_evaluation(self, evaluation_id: str) -> Evaluation:
        checks.check_id(evaluation_id, "evaluation id")
        with self._read() as conn:
            return ml.evaluation_from_row(self._model_evaluation_row(conn, evaluation_id))

    def list_evaluations(self, name: str, version: int | None = None) -> list[Evaluation]:
        name = validate_model_name(name)
        number = None if version is None else dc.check_version(version)
        query = sa.select(_ev).where(_ev.c.model_name == name).order_by(_ev.c.seq.desc())
        if number is not None:
            query = query.where(_ev.c.model_version == number)
        with self._read() as conn:
            self._check_model_links(conn, name, number, None, None)
            return [ml.evaluation_from_row(row) for row in conn.execute(query)]

    # -- promotion decisions ---------------------------------------------------
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
        name = validate_model_name(name)
        dataset = None if dataset is None else validate_dataset_name(dataset)
        text = mc.check_text(reason, "reason", dc.MAX_MESSAGE_LENGTH)
        if text is None:
            raise InvalidInputError("a promotion decision needs a reason")
        values: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "alias": validate_model_alias(alias),
            "candidate_version": dc.check_version(candidate_version),
            "incumbent_version": None
            if incumbent_version is None
            else dc.check_version(incumbent_version),
            "metric": validate_key(metric, "metric"),
            "greater_is_better": _flag(greater_is_better, "greater_is_better"),
            "candidate_score": mc.check_score(candidate_score, "candidate score"),
            "incumbent_score": None
            if incumbent_score is None
            else mc.check_score(incumbent_score, "incumbent score"),
            "min_delta": mc.check_score(min_delta, "min_delta"),
            "thresholds": mc.check_thresholds(thresholds),
            "promoted": _flag(promoted, "promoted"),
            "reason": text,
            "candidate_evaluation_id": checks.check_id(
                candidate_evaluation_id, "candidate evaluation id"
            ),
            "incumbent_evaluation_id": None
            if incumbent_evaluation_id is None
            else checks.check_id(incumbent_evaluation_id, "incumbent evaluation id"),
            "dataset": dataset,
            "dataset_version": _optional_version(
                dataset_version, "dataset_version", dataset, "a dataset"
            ),
            "user": mc.check_optional_name(user, "user"),
            "created_at": now_ms(),
        }
        with self._write() as conn:
            model = ml.model_row(conn, name)
            for number in (values["candidate_version"], values["incumbent_version"]):
                if number is not None:
                    ml.version_row(conn, model, number)
            for evaluation_id in (
                values["candidate_evaluation_id"],
                values["incumbent_evaluation_id"],
            ):
                if evaluation_id is not None:
                    self._model_evaluation_row(conn, evaluation_id)
            self._check_model_links(conn, None, None, dataset, values["dataset_version"])
            conn.execute(_pd.insert().values(model_id=model.id, **values))
            row = conn.execute(sa.select(_pd).where(_pd.c.id == values["id"])).one()
            return ml.decision_from_row(row, name)

    def list_promotion_decisions(
        self, name: str, alias: str | None = None
    ) -> list[PromotionDecision]:
        name = validate_model_name(name)
        wanted = None if alias is None else validate_model_alias(alias)
        with self._read() as conn:
            model = ml.model_row(conn, name)
            query = sa.select(_pd).where(_pd.c.model_id == model.id).order_by(_pd.c.seq.desc())
            if wanted is not None:
                query = query.where(_pd.c.alias == wanted)
            return [ml.decision_from_row(row, name) for row in conn.execute(query)]

    # -- garbage collection ----------------------------------------------------
    def model_referenced_digests(self) -> set[str]:
        with self._read() as conn:
            found = set(
                conn.execute(sa.select(tm.model_versions.c.package_digest).distinct()).scalars()
            )
            for plots in conn.execute(sa.select(_ev.c.plots)).scalars():
                found.update(plots.values())
        return found
