"""The object ``shipyard.models.load`` returns: one interface for every flavor.

It satisfies :class:`shipyard.models.predictor.Predictor`: ``predict`` and
``predict_proba`` take any accepted input (see :mod:`shipyard.models.inputs`),
check it against the signature and return numpy arrays whose first dimension
is the row count. A server calls ``prepare`` per request and
``predict_prepared`` on the concatenation of several.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInputError, ShipyardError
from shipyard.models.environment import EnvironmentDifference
from shipyard.models.flavors.base import Native
from shipyard.models.inputs import Prepared, prepare_input
from shipyard.models.manifest import Manifest
from shipyard.models.predictor import Predictor
from shipyard.models.signature import Signature

__all__ = ["LoadedModel"]


class LoadedModel:
    """A model ready to predict, with what its package recorded.

    ``uri`` is the URI it was loaded by; ``model_name`` / ``model_version`` are set
    for a registered version; ``raw`` is the flavor's own object (the estimator,
    the onnxruntime session, the TorchScript module, the unpickled object).
    """

    def __init__(
        self,
        *,
        uri: str,
        manifest: Manifest,
        native: Native,
        run_id: str | None,
        package_digest: str,
        model_name: str | None = None,
        model_version: int | None = None,
        input_example: Prepared | None = None,
        environment_differences: list[EnvironmentDifference] | None = None,
    ) -> None:
        self.uri = uri
        self.flavor = manifest.flavor
        self.signature: Signature = manifest.signature
        self.model_name = model_name
        self.model_version = model_version
        self.run_id = run_id
        self.package_digest = package_digest
        self.manifest = manifest
        self.environment_differences = list(environment_differences or [])
        self._native = native
        self._example = input_example

    def __repr__(self) -> str:
        return f"<LoadedModel {self.uri} flavor={self.flavor} {self.signature}>"

    @property
    def raw(self) -> Any:
        return self._native.raw

    @property
    def input_example(self) -> Prepared | None:
        """The example logged with the model (first rows), in prepared form; None if none."""
        return self._example.copy() if self._example is not None else None

    @property
    def has_predict_proba(self) -> bool:
        return self.manifest.predict_proba and self._native.has_predict_proba

    def prepare(self, data: Any) -> Prepared:
        """Check ``data`` against the signature and convert it (``SignatureError`` if it
        does not fit)."""
        return prepare_input(self.signature, data)

    def _rows(self, result: Any, prepared: Prepared, what: str) -> np.ndarray[Any, Any]:
        array = np.asarray(result)
        rows = len(prepared)
        if array.ndim == 0 or array.shape[0] != rows:
            raise ShipyardError(
                f"{self.uri} returned {what} of shape {array.shape} for {rows} input rows"
            )
        return array

    def predict_prepared(self, prepared: Prepared) -> np.ndarray[Any, Any]:
        return self._rows(self._native.predict(prepared), prepared, "predictions")

    def _require_proba(self) -> None:
        if not self.has_predict_proba:
            raise InvalidInputError(
                f"{self.uri} ({self.flavor} model) has no predict_proba; use predict"
            )

    def predict_proba_prepared(self, prepared: Prepared) -> np.ndarray[Any, Any]:
        self._require_proba()
        return self._rows(self._native.predict_proba(prepared), prepared, "probabilities")

    def predict(self, data: Any) -> np.ndarray[Any, Any]:
        return self.predict_prepared(self.prepare(data))

    def predict_proba(self, data: Any) -> np.ndarray[Any, Any]:
        self._require_proba()  # before checking the input: the clearer error
        return self.predict_proba_prepared(self.prepare(data))


def _is_a_predictor(model: LoadedModel) -> Predictor:
    return model  # mypy checks here that LoadedModel satisfies the protocol
