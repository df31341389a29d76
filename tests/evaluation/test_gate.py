"""The promotion gate on real models and data, on SQLite and through a live server."""

from __future__ import annotations

import pytest

import shipyard as sy
from shipyard.entities import ModelVersionStatus
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.evaluation.gate import promote
from tests.evaluation.conftest import Backend, Registered


def test_the_promotion_story(backend: Backend, registered: Registered) -> None:
    store = backend.client.store
    name, data = registered.name, registered.data

    # No incumbent: thresholds alone decide.
    first = promote(f"models:/{name}/1", data=data, target="label", thresholds={"accuracy": 0.5})
    assert first.promoted and first.incumbent is None and first.incumbent_score is None
    assert first.decision.incumbent_version is None
    assert store.get_registered_model(name).aliases == {"production": 1}

    # A better candidate beats the incumbent on the same data and moves the alias.
    second = sy.models.promote(
        f"models:/{name}/2",
        data=data,
        target="label",
        min_delta=0.01,
        reason="weekly retrain",
    )
    assert second.promoted and second.incumbent is not None
    assert second.candidate_score > second.incumbent_score + 0.01  # type: ignore[operator]
    assert second.incumbent.id == second.decision.incumbent_evaluation_id
    assert second.incumbent_score == second.incumbent.metrics["f1_macro"]
    assert second.candidate.evaluation.dataset_version == registered.dataset.version
    assert store.get_registered_model(name).aliases == {"production": 2}

    # A worse one is refused: the alias stays, and both scores are kept.
    third = promote(f"models:/{name}/3", data=data, target="label")
    assert not third.promoted and not bool(third)
    assert third.reason.startswith("refused: ") and "does not improve" in third.reason
    assert third.candidate_score < third.incumbent_score  # type: ignore[operator]
    assert store.get_registered_model(name).aliases == {"production": 2}

    # The holder itself is refused with a reason.
    again = promote(f"models:/{name}@production", data=data, target="label")
    assert not again.promoted and "already holds alias 'production'" in again.reason

    events = store.list_alias_events(name, "production")
    assert [(e.from_version, e.to_version) for e in events] == [(None, 1), (1, 2)]
    assert events[1].reason == second.reason
    assert "weekly retrain" in events[1].reason and "improves" in events[1].reason

    decisions = store.list_promotion_decisions(name, "production")
    assert [(d.candidate_version, d.promoted) for d in decisions] == [
        (2, False),
        (3, False),
        (2, True),
        (1, True),
    ]
    refused = decisions[1]
    assert refused == third.decision
    assert refused.incumbent_version == 2 and refused.metric == "f1_macro"
    assert refused.greater_is_better and refused.dataset == f"{name}-test"
    evaluation = store.get_evaluation(refused.candidate_evaluation_id)
    assert evaluation.metrics["f1_macro"] == refused.candidate_score


def test_thresholds_and_lower_is_better(backend: Backend, registered: Registered) -> None:
    store = backend.client.store
    name, data = registered.name, registered.data
    refused = promote(
        f"models:/{name}/2",
        "staging",
        data=data,
        target="label",
        metric="log_loss",
        thresholds={"accuracy": 0.999, "log_loss": 5.0},
    )
    assert not refused.promoted and not refused.decision.greater_is_better
    assert "accuracy" in refused.reason and "< threshold 0.999" in refused.reason
    assert refused.decision.thresholds == {"accuracy": 0.999, "log_loss": 5.0}
    assert "staging" not in store.get_registered_model(name).aliases

    assert promote(f"models:/{name}/3", "staging", data=data, target="label").promoted
    better = promote(f"models:/{name}/2", "staging", data=data, target="label", metric="log_loss")
    assert better.promoted
    assert better.candidate_score < better.incumbent_score  # type: ignore[operator]


def test_gate_user_errors(backend: Backend, registered: Registered) -> None:
    name, data = registered.name, registered.data
    with pytest.raises(InvalidInputError, match="unknown metric 'f2'"):
        promote(f"models:/{name}/2", data=data, target="label", metric="f2")
    with pytest.raises(InvalidInputError, match="must not be a number"):
        promote(f"models:/{name}/2", "7", data=data, target="label")
    with pytest.raises(InvalidInputError, match="not a registered model version"):
        promote(f"runs:/{registered.run_id}/good", data=data, target="label")
    with pytest.raises(InvalidInputError, match="no rmse score"):
        promote(f"models:/{name}/2", data=data, target="label", metric="rmse")
    backend.client.store.update_model_version(name, 3, status=ModelVersionStatus.ARCHIVED)
    with pytest.raises(ConflictError, match="archived"):
        promote(f"models:/{name}/3", data=data, target="label")
    assert backend.client.store.list_promotion_decisions(name) == []
