"""The scores, checked against values worked out by hand and against scikit-learn itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shipyard.errors import InvalidInputError
from shipyard.evaluation import metrics as m


def test_binary_classification_by_hand() -> None:
    y_true = [0, 0, 1, 1, 1]
    y_pred = [0, 1, 1, 1, 0]
    scores = m.classification_scores(y_true, y_pred)
    assert scores.metrics["accuracy"] == pytest.approx(3 / 5)
    # class 0: precision 1/2, recall 1/2; class 1: precision 2/3, recall 2/3
    assert scores.metrics["precision_macro"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert scores.metrics["f1_weighted"] == pytest.approx((2 * 0.5 + 3 * (2 / 3)) / 5)
    assert scores.details["labels"] == [0, 1]
    assert scores.details["confusion_matrix"] == [[1, 1], [1, 2]]
    assert [c["support"] for c in scores.details["per_class"]] == [2, 3]
    assert "roc_auc" not in scores.metrics and "log_loss" not in scores.metrics


def test_probabilities_match_scikit_learn_on_iris() -> None:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(x[::2], y[::2])
    proba = model.predict_proba(x[1::2])
    predicted = model.predict(x[1::2])
    scores = m.classification_scores(y[1::2], predicted, proba, list(model.classes_))
    assert scores.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y[1::2], proba, multi_class="ovr", average="macro")
    )
    assert scores.metrics["log_loss"] == pytest.approx(skm.log_loss(y[1::2], proba))
    assert scores.metrics["f1_macro"] == pytest.approx(
        skm.f1_score(y[1::2], predicted, average="macro")
    )
    assert set(scores.details["roc_auc_per_class"]) == {"0", "1", "2"}
    assert scores.details["proba_classes"] == [0, 1, 2]


def test_binary_roc_auc_is_the_positive_class_auc() -> None:
    y_true = np.array(["no", "no", "yes", "yes"])
    p_yes = np.array([0.1, 0.6, 0.4, 0.9])
    proba = np.column_stack([1 - p_yes, p_yes])
    predicted = np.where(p_yes > 0.5, "yes", "no")
    scores = m.classification_scores(y_true, predicted, proba, ["no", "yes"])
    assert scores.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y_true == "yes", p_yes))
    assert scores.metrics["roc_auc"] == pytest.approx(0.75)


def test_a_class_missing_from_the_truth_leaves_it_out_of_roc_auc() -> None:
    y_true = [0, 0, 1, 1]
    proba = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.4, 0.3]])
    scores = m.classification_scores(y_true, proba.argmax(axis=1), proba, [0, 1, 2])
    assert set(scores.details["roc_auc_per_class"]) == {"0", "1"}
    assert scores.metrics["roc_auc"] == pytest.approx(1.0)
    assert math.isfinite(scores.metrics["log_loss"])


def test_undefined_scores_are_left_out_with_a_note() -> None:
    single = m.classification_scores([1, 1, 1], [1, 1, 0], np.eye(2)[[1, 1, 0]], [0, 1])
    assert "roc_auc" not in single.metrics
    assert any("single class" in note for note in single.details["notes"])
    unknown = m.classification_scores([0, 1], [0, 1], np.eye(2), None)
    assert "roc_auc" not in unknown.metrics
    assert any("unknown" in note for note in unknown.details["notes"])
    unseen = m.classification_scores([0, 7], [0, 1], np.eye(2), [0, 1])
    assert "log_loss" not in unseen.metrics
    assert any("7" in note for note in unseen.details["notes"])


def test_regression_by_hand() -> None:
    y_true = [1.0, 2.0, 4.0]
    y_pred = [2.0, 2.0, 3.0]
    scores = m.regression_scores(y_true, y_pred)
    assert scores.metrics["mae"] == pytest.approx(2 / 3)
    assert scores.metrics["rmse"] == pytest.approx(math.sqrt(2 / 3))
    assert scores.metrics["mape"] == pytest.approx((1 + 0 + 0.25) / 3)
    assert scores.metrics["r2"] == pytest.approx(1 - 2 / (14 / 3))
    assert scores.details["residuals"]["mean"] == pytest.approx(0.0)
    assert scores.details["residuals"]["max_abs"] == pytest.approx(1.0)
    constant = m.regression_scores([3.0, 3.0], [3.0, 2.0])
    assert "r2" not in constant.metrics and constant.details["notes"]


def test_bad_input_is_a_user_error() -> None:
    with pytest.raises(InvalidInputError, match="2 labels but 3"):
        m.classification_scores([0, 1], [0, 1, 1])
    with pytest.raises(InvalidInputError, match="no rows"):
        m.regression_scores([], [])
    with pytest.raises(InvalidInputError, match="numbers"):
        m.regression_scores(["a", "b"], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="mix types"):
        m.classification_scores([0, 1], ["a", "b"])
    with pytest.raises(InvalidInputError, match="finite"):
        m.regression_scores([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="unknown task"):
        m.scores("ranking", [1], [1])


def test_slices_score_each_value_and_the_missing_ones() -> None:
    values = np.array(["a", "a", "b", "b", None], dtype=object)
    y_true = np.array([0, 1, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 1, 0])
    sliced = m.sliced_scores("classification", "group", values, y_true, y_pred)
    assert sliced["column"] == "group"
    by_value = {s["value"]: s for s in sliced["slices"]}
    assert by_value["a"]["metrics"]["accuracy"] == 1.0
    assert by_value["b"]["metrics"]["accuracy"] == 0.5
    assert by_value[None]["row_count"] == 1
    many = np.arange(m.MAX_SLICES + 1)
    with pytest.raises(InvalidInputError, match="distinct values"):
        m.sliced_scores("regression", "id", many, many * 1.0, many * 1.0)


def test_directions() -> None:
    assert not m.greater_is_better("rmse") and not m.greater_is_better("log_loss")
    assert m.greater_is_better("f1_macro") and m.greater_is_better("r2")
    assert "mape" in m.known_metrics("regression")
    assert "accuracy" not in m.known_metrics("regression")
