"""Dataset URIs and the CLI's short forms."""

from __future__ import annotations

import pytest

from shipyard.data.uris import DatasetRef, parse_dataset_ref, parse_dataset_uri
from shipyard.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("datasets:/mnist", DatasetRef("mnist", None)),
        ("datasets:/mnist@latest", DatasetRef("mnist", None)),
        ("datasets:/mnist@golden", DatasetRef("mnist", "golden")),
        ("datasets:/mnist/3", DatasetRef("mnist", 3)),
        ("datasets:/mnist@3", DatasetRef("mnist", 3)),
        ("mnist", DatasetRef("mnist", None)),
        ("mnist@7", DatasetRef("mnist", 7)),
        ("my.data-set_2@v1", DatasetRef("my.data-set_2", "v1")),
    ],
)
def test_every_form_parses(text: str, expected: DatasetRef) -> None:
    assert parse_dataset_ref(text) == expected


def test_uri_round_trips() -> None:
    for ref in (DatasetRef("a", 2), DatasetRef("a", "gold"), DatasetRef("a")):
        assert parse_dataset_uri(ref.uri) == ref


@pytest.mark.parametrize(
    "text",
    [
        "datasets:/",
        "datasets:/mnist/",
        "datasets:/mnist/x",
        "datasets:/mnist/0",
        "datasets:/mnist@",
        "datasets:/a@b@c",
        "datasets:/a@1/2",
        "mnist@",
        "../x",
        "a/b",
    ],
)
def test_bad_references_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_dataset_ref(text)


def test_a_non_dataset_uri_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a dataset URI"):
        parse_dataset_uri("models:/x/1")
