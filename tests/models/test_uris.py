"""Model URIs as users type them."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInputError
from shipyard.models.uris import ModelRef, RunModelRef, parse_model_uri


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("models:/digits", ModelRef("digits", None)),
        ("models:/digits@latest", ModelRef("digits", None)),
        ("models:/digits@production", ModelRef("digits", "production")),
        ("models:/digits/3", ModelRef("digits", 3)),
        ("runs:/abc123/model", RunModelRef("abc123", "model")),
        ("runs:/abc123", RunModelRef("abc123", "model")),
        ("runs:/abc123/models/clf", RunModelRef("abc123", "models/clf")),
    ],
)
def test_forms(uri: str, parsed: ModelRef | RunModelRef) -> None:
    assert parse_model_uri(uri) == parsed


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("digits", "not a model URI"),
        ("models:/digits/three", "after NAME/ comes a version number"),
        ("models:/digits/0", "after NAME/ comes a version number"),
        ("models:/digits@", "nothing after '@'"),
        ("models:/dig its", "may contain only letters, digits and _ - ."),
        ("runs:/", "names no run"),
        ("runs:/abc/../../etc", "'..'"),
        (3, "must be a string"),
    ],
)
def test_errors(uri: object, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_model_uri(uri)
    assert message in str(caught.value)
