"""Any object with ``predict``, pickled with cloudpickle.

Unpickling runs code chosen by whoever wrote the file, so the loader hands a
package of this flavor over only when the caller trusts it (``trust=True`` or
``SHIPYARD_TRUSTED_MODELS``, see :mod:`shipyard.models.trust`). The manifest
pins the distribution that defines the model's class, besides cloudpickle.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.models.flavors.base import Saved
from shipyard.models.inputs import Prepared

__all__ = ["FLAVOR", "MODEL_FILE", "PythonFlavor"]

MODEL_FILE = "model.pkl"


@dataclass(frozen=True, slots=True)
class _Loaded:
    model: Any

    @property
    def raw(self) -> Any:
        return self.model

    @property
    def has_predict_proba(self) -> bool:
        return callable(getattr(self.model, "predict_proba", None))

    def predict(self, prepared: Prepared) -> Any:
        return self.model.predict(prepared)

    def predict_proba(self, prepared: Prepared) -> Any:
        return self.model.predict_proba(prepared)


def _distributions_of(model: Any) -> list[str]:
    """The installed distribution(s) that provide the top-level module of the model's class."""
    top = type(model).__module__.split(".")[0]
    return list(importlib.metadata.packages_distributions().get(top, []))


class PythonFlavor:
    name = "python"
    needs_trust = True

    def save(self, model: Any, folder: Path, example: Prepared | None) -> Saved:
        import cloudpickle

        if not callable(getattr(model, "predict", None)):
            raise InvalidInputError(
                f"a {type(model).__name__} has no predict method; the python flavor needs one"
            )
        with (folder / MODEL_FILE).open("wb") as handle:
            cloudpickle.dump(model, handle)
        cls = type(model)
        return Saved(
            files=[MODEL_FILE],
            options={"class": f"{cls.__module__}.{cls.__qualname__}"},
            packages=["cloudpickle", *_distributions_of(model)],
        )

    def load(self, files: Mapping[str, Path], options: Mapping[str, Any]) -> _Loaded:
        import cloudpickle

        with files[MODEL_FILE].open("rb") as handle:
            return _Loaded(cloudpickle.load(handle))


FLAVOR = PythonFlavor()
