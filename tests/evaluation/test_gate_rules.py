"""The gate's rules as a pure function: directions, thresholds, min_delta, no incumbent."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInputError
from shipyard.evaluation.gate import check_rules, decide


def test_higher_is_better_needs_min_delta() -> None:
    outcome = decide("f1_macro", {"f1_macro": 0.95}, {"f1_macro": 0.90}, min_delta=0.01)
    assert outcome.promoted and outcome.greater_is_better
    assert outcome.candidate_score == 0.95 and outcome.incumbent_score == 0.90
    assert outcome.reason.startswith("promoted: ")
    assert "+0.05" in outcome.reason

    short = decide("f1_macro", {"f1_macro": 0.905}, {"f1_macro": 0.90}, min_delta=0.01)
    assert not short.promoted
    assert "does not improve by min_delta 0.01" in short.reason


def test_lower_is_better_metrics() -> None:
    better = decide("rmse", {"rmse": 2.0}, {"rmse": 2.5}, min_delta=0.1)
    assert better.promoted and not better.greater_is_better
    worse = decide("rmse", {"rmse": 3.0}, {"rmse": 2.5})
    assert not worse.promoted and "lower is better" in worse.reason
    for metric in ("mae", "log_loss", "mape"):
        assert decide(metric, {metric: 1.0}, {metric: 2.0}).promoted
        assert not decide(metric, {metric: 2.0}, {metric: 1.0}).promoted


def test_a_tie_passes_min_delta_zero_only() -> None:
    assert decide("accuracy", {"accuracy": 0.9}, {"accuracy": 0.9}).promoted
    assert not decide("accuracy", {"accuracy": 0.9}, {"accuracy": 0.9}, min_delta=1e-6).promoted


def test_negative_min_delta_tolerates_a_small_regression() -> None:
    assert decide("accuracy", {"accuracy": 0.895}, {"accuracy": 0.9}, min_delta=-0.01).promoted


def test_thresholds_each_in_their_direction() -> None:
    scores = {"accuracy": 0.92, "rmse": 1.5, "f1_macro": 0.9}
    ok = decide("f1_macro", scores, None, thresholds={"accuracy": 0.9, "rmse": 2.0})
    assert ok.promoted and ok.incumbent_score is None
    assert "no incumbent" in ok.reason and "accuracy 0.92 >= 0.9" in ok.reason

    failed = decide("f1_macro", scores, None, thresholds={"accuracy": 0.95, "rmse": 1.0})
    assert not failed.promoted
    assert failed.failures == (
        "accuracy 0.92 < threshold 0.95",
        "rmse 1.5 > threshold 1",
    )


def test_no_incumbent_and_no_thresholds_promotes() -> None:
    assert decide("f1_macro", {"f1_macro": 0.1}, None).promoted


def test_beating_the_incumbent_does_not_excuse_a_threshold() -> None:
    outcome = decide(
        "f1_macro",
        {"f1_macro": 0.8, "accuracy": 0.8},
        {"f1_macro": 0.7, "accuracy": 0.7},
        thresholds={"accuracy": 0.85},
    )
    assert not outcome.promoted and outcome.failures == ("accuracy 0.8 < threshold 0.85",)


def test_user_errors() -> None:
    with pytest.raises(InvalidInputError, match="candidate has no roc_auc"):
        decide("roc_auc", {"f1_macro": 0.9}, None)
    with pytest.raises(InvalidInputError, match="incumbent has no f1_macro"):
        decide("f1_macro", {"f1_macro": 0.9}, {"accuracy": 0.8})
    with pytest.raises(InvalidInputError, match="finite"):
        decide("f1_macro", {"f1_macro": 0.9}, None, min_delta=float("nan"))
    with pytest.raises(InvalidInputError, match="unknown metric 'f2'"):
        check_rules("f2", None, 0.0, None)
    with pytest.raises(InvalidInputError, match="unknown metric 'accuracy' for regression"):
        check_rules("rmse", {"accuracy": 0.9}, 0.0, "regression")
    assert check_rules("rmse", {"mae": 3}, 0.0, "regression") == {"mae": 3.0}
