"""The promotion gate: an alias moves only to a model that beats its holder on the same data.

::

    decision = sy.models.promote(
        "models:/digits/4", alias="production",
        data="datasets:/digits-test@latest", target="label",
        metric="f1_macro", min_delta=0.005, thresholds={"accuracy": 0.95},
    )

The candidate and the alias's current holder (the incumbent) are evaluated on
the same table. The candidate is promoted when it meets every absolute
threshold and improves on the incumbent's score by at least ``min_delta`` in
the metric's direction (lower is better for ``mae``, ``rmse``, ``log_loss`` and
``mape``; higher for the rest). With no incumbent the thresholds alone decide.
Either way the decision and both scores are recorded; a promotion moves the
alias first, with the decision's reason in the alias's history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.entities import ModelVersionStatus, PromotionDecision
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.evaluation import metrics as m
from shipyard.evaluation.evaluate import EvaluationResult, Table, evaluate_table, load_data
from shipyard.store.dataset_checks import MAX_MESSAGE_LENGTH, check_text
from shipyard.store.models_base import validate_model_alias
from shipyard.tracking.client import Client
from shipyard.tracking.context import current_user

__all__ = ["GateOutcome", "Promotion", "decide", "explain", "promote"]

# Scores are floats computed the same way on the same rows: a tie must stay a tie.
_TOLERANCE = 1e-12
# The caller's note shares the stored reason with the gate's explanation.
MAX_NOTE_LENGTH = MAX_MESSAGE_LENGTH // 2


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """What the gate's rules say about two sets of scores, with one line per check."""

    promoted: bool
    reason: str
    metric: str
    greater_is_better: bool
    candidate_score: float
    incumbent_score: float | None
    failures: tuple[str, ...] = ()


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _finite(value: float, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInputError(f"{what} must be a finite number, got {value!r}")
    return number


def check_rules(
    metric: str, thresholds: Mapping[str, float] | None, min_delta: float, task: str | None
) -> dict[str, float]:
    """Refuse unknown metric names and non-finite bounds before anything is evaluated."""
    known = m.known_metrics(task)
    for name in (metric, *(thresholds or {})):
        if name not in known:
            raise InvalidInputError(
                f"unknown metric {name!r}"
                + (f" for {task}" if task else "")
                + f"; choose one of {', '.join(known)}"
            )
    _finite(min_delta, "min_delta")
    return {name: _finite(bound, f"threshold {name}") for name, bound in (thresholds or {}).items()}


def _score(scores: Mapping[str, float], metric: str, who: str) -> float:
    if metric not in scores:
        shown = ", ".join(sorted(scores)) or "none"
        raise InvalidInputError(
            f"{who} has no {metric} score (it has {shown}); choose a metric both models have"
        )
    return float(scores[metric])


def decide(
    metric: str,
    candidate: Mapping[str, float],
    incumbent: Mapping[str, float] | None = None,
    *,
    min_delta: float = 0.0,
    thresholds: Mapping[str, float] | None = None,
    candidate_label: str = "candidate",
    incumbent_label: str = "incumbent",
) -> GateOutcome:
    """Apply the gate's rules to the candidate's and the incumbent's scores (pure).

    Promoted when every threshold holds (``>= bound``, or ``<= bound`` for a
    lower-is-better metric) and, with an incumbent, when the candidate improves on
    it by at least ``min_delta`` in the metric's direction (a negative ``min_delta``
    tolerates that much regression). A metric the candidate lacks is a user error.
    """
    bounds = {name: _finite(b, f"threshold {name}") for name, b in (thresholds or {}).items()}
    delta = _finite(min_delta, "min_delta")
    higher = m.greater_is_better(metric)
    score = _score(candidate, metric, candidate_label)
    passed: list[str] = []
    failures: list[str] = []
    for name, bound in bounds.items():
        value = _score(candidate, name, candidate_label)
        if m.greater_is_better(name):
            ok, sign, bad = value >= bound - _TOLERANCE, ">=", "<"
        else:
            ok, sign, bad = value <= bound + _TOLERANCE, "<=", ">"
        if ok:
            passed.append(f"{name} {_fmt(value)} {sign} {_fmt(bound)}")
        else:
            failures.append(f"{name} {_fmt(value)} {bad} threshold {_fmt(bound)}")
    incumbent_score: float | None = None
    if incumbent is None:
        comparison = f"{metric} {_fmt(score)}, no incumbent to beat"
    else:
        incumbent_score = _score(incumbent, metric, incumbent_label)
        gain = score - incumbent_score if higher else incumbent_score - score
        versus = (
            f"{candidate_label} {metric} {_fmt(score)} vs {incumbent_label} "
            f"{_fmt(incumbent_score)} ({'+' if gain >= 0 else ''}{_fmt(gain)}"
            f"{'' if higher else ', lower is better'})"
        )
        if gain >= delta - _TOLERANCE:
            comparison = f"{versus} improves by at least min_delta {_fmt(delta)}"
        else:
            comparison = f"{versus} does not improve by min_delta {_fmt(delta)}"
            failures.insert(0, comparison)
    if failures:
        reason = "refused: " + "; ".join(failures)
    else:
        reason = "promoted: " + "; ".join([comparison, *passed])
    return GateOutcome(
        promoted=not failures,
        reason=reason,
        metric=metric,
        greater_is_better=higher,
        candidate_score=score,
        incumbent_score=incumbent_score,
        failures=tuple(failures),
    )


@dataclass(frozen=True, slots=True)
class Promotion:
    """The recorded decision and the two evaluations it was made on."""

    decision: PromotionDecision
    candidate: EvaluationResult
    incumbent: EvaluationResult | None

    @property
    def promoted(self) -> bool:
        return self.decision.promoted

    @property
    def reason(self) -> str:
        return self.decision.reason

    @property
    def metric(self) -> str:
        return self.decision.metric

    @property
    def candidate_score(self) -> float:
        return self.decision.candidate_score

    @property
    def incumbent_score(self) -> float | None:
        return self.decision.incumbent_score

    def __bool__(self) -> bool:
        return self.decision.promoted

    @property
    def explanation(self) -> str:
        """The reason without its leading verdict (``promoted: `` / ``refused: ``)."""
        return explain(self.decision)

    def summary(self) -> str:
        """One line: the verdict, the candidate and the alias, and why."""
        d = self.decision
        verdict = "PROMOTED" if d.promoted else "REFUSED"
        return f"{verdict} {d.name}/{d.candidate_version} as {d.name}@{d.alias}: {self.explanation}"


def explain(decision: PromotionDecision) -> str:
    for prefix in ("promoted: ", "refused: "):
        if decision.reason.startswith(prefix):
            return decision.reason[len(prefix) :]
    return decision.reason


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def promote(
    candidate_uri: str,
    alias: str = "production",
    *,
    data: Any,
    target: str,
    metric: str = "f1_macro",
    min_delta: float = 0.0,
    thresholds: Mapping[str, float] | None = None,
    task: str | None = None,
    reason: str | None = None,
    trust: bool = False,
    client: Client | None = None,
) -> Promotion:
    """Evaluate ``candidate_uri`` and the holder of ``alias`` on ``data`` and move the
    alias to the candidate only if it passes the gate (see the module docstring).

    ``candidate_uri`` names a registered version (``models:/digits/4``,
    ``models:/digits@challenger``). ``reason`` goes into the alias's history with
    the gate's own explanation. Returns the recorded decision either way; a
    candidate that already holds the alias is refused.
    """
    from shipyard.models import load, resolve

    c = _client(client)
    alias = validate_model_alias(alias)
    note = check_text(reason, "reason", MAX_NOTE_LENGTH)
    bounds = check_rules(metric, thresholds, min_delta, task)
    chosen = m.check_task(task) if task is not None else None
    resolved = resolve(candidate_uri, client=c)
    name, number = resolved.name, resolved.version
    if name is None or number is None:
        raise InvalidInputError(
            f"{candidate_uri} is not a registered model version; register it first "
            "(shipyard models register) and promote models:/NAME/VERSION"
        )
    store = c.store
    candidate_version = store.get_model_version(name, number)
    if candidate_version.status is ModelVersionStatus.ARCHIVED:
        raise ConflictError(f"{candidate_version.uri} is archived; unarchive it to promote it")
    incumbent_number = store.get_registered_model(name).aliases.get(alias)
    table: Table = load_data(data, client=c)
    candidate_label = f"{name}/{number}"
    candidate = evaluate_table(
        load(candidate_version.uri, trust=trust, client=c), table, target, chosen, client=c
    )
    incumbent: EvaluationResult | None = None
    if incumbent_number == number:
        outcome = GateOutcome(
            promoted=False,
            reason=f"refused: {candidate_label} already holds alias {alias!r}; nothing to promote",
            metric=metric,
            greater_is_better=m.greater_is_better(metric),
            candidate_score=_score(candidate.metrics, metric, candidate_label),
            incumbent_score=_score(candidate.metrics, metric, candidate_label),
        )
        incumbent = candidate
    else:
        if incumbent_number is not None:
            incumbent = evaluate_table(
                load(f"models:/{name}/{incumbent_number}", trust=trust, client=c),
                table,
                target,
                candidate.task,
                client=c,
            )
        outcome = decide(
            metric,
            candidate.metrics,
            incumbent.metrics if incumbent is not None else None,
            min_delta=min_delta,
            thresholds=bounds,
            candidate_label=candidate_label,
            incumbent_label=f"{name}/{incumbent_number}",
        )
    user = current_user()
    promoted, explanation = outcome.promoted, outcome.reason
    if promoted:
        holder = store.get_registered_model(name).aliases.get(alias)
        if holder != incumbent_number:
            promoted = False
            explanation = (
                f"refused: alias {alias!r} moved to version {holder} while the gate evaluated; "
                "run the gate again"
            )
    if note:
        explanation = f"{explanation} (note: {note})"
    explanation = explanation[:MAX_MESSAGE_LENGTH]
    if promoted:
        store.set_model_alias(name, alias, number, user=user, reason=explanation)
    version = table.version
    decision = store.log_promotion_decision(
        name=name,
        alias=alias,
        candidate_version=number,
        incumbent_version=incumbent_number,
        metric=metric,
        greater_is_better=outcome.greater_is_better,
        candidate_score=outcome.candidate_score,
        incumbent_score=outcome.incumbent_score,
        min_delta=float(min_delta),
        thresholds=bounds,
        promoted=promoted,
        reason=explanation,
        candidate_evaluation_id=candidate.id,
        incumbent_evaluation_id=incumbent.id if incumbent is not None else None,
        dataset=version.dataset if version is not None else None,
        dataset_version=version.version if version is not None else None,
        user=user,
    )
    return Promotion(decision, candidate, incumbent)
