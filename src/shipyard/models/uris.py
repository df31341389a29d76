"""Names of model packages, as users type them.

::

    models:/digits              the newest READY version
    models:/digits@latest       the same
    models:/digits@production   the version the alias names
    models:/digits/3            version 3
    runs:/<run-id>/model        the package logged under ``model/`` in that run
    runs:/<run-id>              the same (``model`` is the default artifact path)

Model names and aliases never hold ``/`` or ``@`` (see
:mod:`shipyard.store.models_base`), so each form splits one way only.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.entities import MODEL_URI_SCHEME
from shipyard.errors import InvalidInputError
from shipyard.store.models_base import validate_model_alias, validate_model_name
from shipyard.validation import validate_artifact_path

__all__ = [
    "DEFAULT_ARTIFACT_PATH",
    "RUN_URI_SCHEME",
    "ModelRef",
    "RunModelRef",
    "parse_model_uri",
    "run_uri",
]

RUN_URI_SCHEME = "runs:/"
DEFAULT_ARTIFACT_PATH = "model"
_FORMS = "models:/NAME, models:/NAME@ALIAS, models:/NAME/VERSION or runs:/RUN_ID/PATH"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A registered model and which version: a number, an alias, or None for the latest."""

    name: str
    ref: int | str | None = None

    @property
    def uri(self) -> str:
        if self.ref is None:
            return f"{MODEL_URI_SCHEME}{self.name}@latest"
        if isinstance(self.ref, int):
            return f"{MODEL_URI_SCHEME}{self.name}/{self.ref}"
        return f"{MODEL_URI_SCHEME}{self.name}@{self.ref}"


@dataclass(frozen=True, slots=True)
class RunModelRef:
    """A package logged in a run, by the run's id (or a unique prefix) and artifact folder."""

    run_id: str
    path: str = DEFAULT_ARTIFACT_PATH

    @property
    def uri(self) -> str:
        return run_uri(self.run_id, self.path)


def run_uri(run_id: str, path: str) -> str:
    return f"{RUN_URI_SCHEME}{run_id}/{path}"


def _name(text: str, uri: str) -> str:
    try:
        return validate_model_name(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"model URI {uri!r}: {exc.message}") from None


def _alias(text: str, uri: str) -> str:
    try:
        return validate_model_alias(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"model URI {uri!r}: {exc.message}") from None


def parse_model_uri(uri: object) -> ModelRef | RunModelRef:
    """Split a ``models:/`` or ``runs:/`` URI; ``InvalidInputError`` lists the forms."""
    if not isinstance(uri, str):
        raise InvalidInputError(f"model URI must be a string, got {type(uri).__name__}")
    text = uri.strip()
    if text.startswith(RUN_URI_SCHEME):
        rest = text[len(RUN_URI_SCHEME) :].strip("/")
        run_id, _, path = rest.partition("/")
        if not run_id:
            raise InvalidInputError(f"model URI {uri!r} names no run; use {_FORMS}")
        path = path.strip("/") or DEFAULT_ARTIFACT_PATH
        return RunModelRef(run_id, validate_artifact_path(path, "model artifact path"))
    if text.startswith(MODEL_URI_SCHEME):
        rest = text[len(MODEL_URI_SCHEME) :]
        name, slash, number = rest.partition("/")
        if slash:
            if not (number.isascii() and number.isdigit()) or int(number) < 1:
                raise InvalidInputError(
                    f"model URI {uri!r}: after NAME/ comes a version number, e.g. models:/digits/3"
                )
            return ModelRef(_name(name, uri), int(number))
        name, at, alias = rest.partition("@")
        if at and not alias:
            raise InvalidInputError(f"model URI {uri!r} has nothing after '@'")
        if not at or alias == "latest":
            return ModelRef(_name(name, uri), None)
        if alias.isascii() and alias.isdigit():
            return ModelRef(_name(name, uri), int(alias))
        return ModelRef(_name(name, uri), _alias(alias, uri))
    raise InvalidInputError(f"{uri!r} is not a model URI: use {_FORMS}")
