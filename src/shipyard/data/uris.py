"""Names of dataset versions, as users type them.

::

    datasets:/mnist            the newest live version
    datasets:/mnist@latest     the same
    datasets:/mnist@golden     the version tagged "golden"
    datasets:/mnist/3          version 3
    mnist, mnist@3, mnist@golden   the short forms the CLI accepts

Dataset names and tags never hold ``/`` or ``@`` (see
:mod:`shipyard.store.datasets_base`), so each form splits one way only.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.entities import DATASET_URI_SCHEME
from shipyard.errors import InvalidInputError
from shipyard.store.datasets_base import normalize_ref, validate_dataset_name

__all__ = ["DatasetRef", "parse_dataset_ref", "parse_dataset_uri"]


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """A dataset and which of its versions: a number, a tag, or None for the latest."""

    name: str
    ref: int | str | None = None

    @property
    def uri(self) -> str:
        if self.ref is None:
            return f"{DATASET_URI_SCHEME}{self.name}@latest"
        if isinstance(self.ref, int):
            return f"{DATASET_URI_SCHEME}{self.name}/{self.ref}"
        return f"{DATASET_URI_SCHEME}{self.name}@{self.ref}"

    def __str__(self) -> str:
        return self.uri


def _split(text: str, what: str) -> DatasetRef:
    name, at, ref = text.partition("@")
    if at and not ref:
        raise InvalidInputError(f"{what} {text!r} has nothing after '@'")
    if "@" in ref:
        raise InvalidInputError(f"{what} {text!r} holds more than one '@'")
    return DatasetRef(validate_dataset_name(name), normalize_ref(ref) if at else None)


def parse_dataset_uri(uri: str) -> DatasetRef:
    """``datasets:/NAME``, ``datasets:/NAME@TAG`` or ``datasets:/NAME/N``."""
    if not isinstance(uri, str):
        raise InvalidInputError(f"dataset URI must be a string, got {type(uri).__name__}")
    if not uri.startswith(DATASET_URI_SCHEME):
        raise InvalidInputError(
            f"{uri!r} is not a dataset URI: use datasets:/NAME, datasets:/NAME@TAG "
            "or datasets:/NAME/VERSION"
        )
    rest = uri[len(DATASET_URI_SCHEME) :]
    name, slash, number = rest.partition("/")
    if slash:
        if "@" in name or not (number.isascii() and number.isdigit()):
            raise InvalidInputError(
                f"dataset URI {uri!r}: after NAME/ comes a version number, e.g. datasets:/mnist/3"
            )
        return DatasetRef(validate_dataset_name(name), normalize_ref(int(number)))
    return _split(rest, "dataset URI")


def parse_dataset_ref(text: str) -> DatasetRef:
    """A dataset URI or the short form ``NAME``, ``NAME@VERSION``, ``NAME@TAG``."""
    if not isinstance(text, str):
        raise InvalidInputError(f"dataset reference must be a string, got {type(text).__name__}")
    if text.startswith(DATASET_URI_SCHEME):
        return parse_dataset_uri(text)
    return _split(text, "dataset reference")
