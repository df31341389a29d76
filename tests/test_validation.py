from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from shipyard.errors import InvalidInputError
from shipyard.validation import (
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PARAM_VALUE_LENGTH,
    validate_artifact_path,
    validate_key,
    validate_metric_value,
    validate_name,
    validate_param_value,
    validate_step,
    validate_tag_value,
)


@pytest.mark.parametrize(
    "path",
    [
        "model.skops",
        "plots/confusion matrix.png",
        "a/b/c/d.txt",
        "environment/requirements.txt",
        "ünïcode/файл.txt",
    ],
)
def test_ordinary_artifact_paths_are_accepted(path: str) -> None:
    assert validate_artifact_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "../secret",
        "a/../../b",
        "a/..",
        "/etc/passwd",
        "a\\b",
        "..\\windows",
        "C:/Windows",
        "c:evil",
        "a\x00b",
        "%2e%2e/secret",
        "%2E%2E%2Fsecret",
        "a%2f..%2f..%2fb",
        "%252e%252e/secret",
        "%5c",
        "a%00b",
        "%2fetc/passwd",
        "a//b",
        "./a",
        "a/" + "x" * 2000,
    ],
)
def test_escaping_artifact_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_artifact_path(path)


def test_keys_allow_the_documented_characters_only() -> None:
    assert validate_key("train/loss") == "train/loss"
    assert validate_key("val acc:top-5.mean_") == "val acc:top-5.mean_"
    for bad in ["", "a" * (MAX_KEY_LENGTH + 1), "bad;key", "/abs", "a/../b", "tab\tkey"]:
        with pytest.raises(InvalidInputError):
            validate_key(bad)
    with pytest.raises(InvalidInputError):
        validate_key(3)


def test_names_are_bounded_and_printable() -> None:
    assert validate_name("mnist baseline") == "mnist baseline"
    for bad in ["", "   ", "x" * (MAX_NAME_LENGTH + 1), "line\nbreak"]:
        with pytest.raises(InvalidInputError):
            validate_name(bad)


def test_param_values_are_bounded() -> None:
    assert validate_param_value("x" * MAX_PARAM_VALUE_LENGTH)
    with pytest.raises(InvalidInputError, match="limit is 6000"):
        validate_param_value("x" * (MAX_PARAM_VALUE_LENGTH + 1), "lr")


def test_metric_values_keep_nan_and_infinities() -> None:
    assert math.isnan(validate_metric_value(float("nan")))
    assert validate_metric_value(float("inf")) == math.inf
    assert validate_metric_value(-math.inf) == -math.inf
    assert validate_metric_value(3) == 3.0
    for bad in [True, "0.5", None, 10**400]:
        with pytest.raises(InvalidInputError):
            validate_metric_value(bad)


def test_steps_are_64_bit_integers() -> None:
    assert validate_step(2**62) == 2**62
    for bad in [1.5, 2**64, "3", False]:
        with pytest.raises(InvalidInputError):
            validate_step(bad)


def test_numpy_scalars_are_metric_values() -> None:
    assert validate_metric_value(np.float32(0.5)) == 0.5
    assert validate_metric_value(np.int64(7)) == 7.0
    with pytest.raises(InvalidInputError):
        validate_metric_value(np.bool_(True))


def test_a_trailing_newline_is_not_part_of_a_valid_key() -> None:
    for key in ("acc\n", "acc\r\n", "\nacc"):
        with pytest.raises(InvalidInputError):
            validate_key(key)


def test_text_that_is_not_valid_unicode_is_refused() -> None:
    lone = "ok\ud800"
    for check in (
        lambda: validate_name(lone),
        lambda: validate_param_value(lone),
        lambda: validate_tag_value(lone),
        lambda: validate_artifact_path(f"dir/{lone}"),
    ):
        with pytest.raises(InvalidInputError, match="lone surrogate"):
            check()


def test_the_python_api_refuses_a_lone_surrogate(tmp_path: Path) -> None:
    import shipyard as sy

    client = sy.Client(str(tmp_path / "store"))
    with client.start_run(capture=False) as run:
        with pytest.raises(InvalidInputError):
            run.log_param("k", "\ud800")
        with pytest.raises(InvalidInputError):
            run.set_tag("k", "\ud800")
    assert client.get_run(run.id).params == {}
