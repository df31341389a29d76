"""What a server, a batch job or an evaluation needs of a loaded model.

``shipyard.models.load`` returns a :class:`shipyard.models.loaded.LoadedModel`,
which satisfies this protocol; the serving, evaluation and monitoring packages
depend on the protocol only.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from shipyard.models.inputs import Prepared
from shipyard.models.signature import Signature

__all__ = ["Predictor", "Prepared"]


class Predictor(Protocol):
    """A model ready to predict. ``prepare`` validates and converts any accepted input
    (numpy array, pandas / polars DataFrame, list of dicts, dict of columns) into the
    model's native form, raising :class:`shipyard.errors.SignatureError` that names the
    column or dimension at fault. Prepared inputs of one model concatenate along axis 0
    (``np.concatenate`` / ``pd.concat``), so a server can batch them; predictions come
    back as arrays whose first dimension is the row count."""

    uri: str
    flavor: str
    signature: Signature
    model_name: str | None
    model_version: int | None
    run_id: str | None

    @property
    def input_example(self) -> Any: ...

    @property
    def has_predict_proba(self) -> bool: ...

    def prepare(self, data: Any) -> Prepared: ...

    def predict_prepared(self, prepared: Prepared) -> np.ndarray[Any, Any]: ...

    def predict_proba_prepared(self, prepared: Prepared) -> np.ndarray[Any, Any]: ...

    def predict(self, data: Any) -> np.ndarray[Any, Any]: ...

    def predict_proba(self, data: Any) -> np.ndarray[Any, Any]: ...
