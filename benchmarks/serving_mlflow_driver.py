# mypy: disable-error-code="import-not-found"
"""The MLflow side of the serving benchmark, run with the python of MLflow's own venv.

Usage: ``python serving_mlflow_driver.py COMMAND JSON_ARGS``; prints one JSON object.

``save-model`` stores the digits model that the Shipyard side trained (a
scikit-learn pickle, written by the same scikit-learn version when the two
venvs agree) as an MLflow model folder, without a signature: MLflow's scoring
server then skips schema enforcement, its fastest path.
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from typing import Any

Args = dict[str, Any]


def save_model(args: Args) -> dict[str, Any]:
    import mlflow.sklearn
    import numpy as np
    import sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a pickle of another scikit-learn version warns
        with open(args["pickle"], "rb") as handle:
            model = pickle.load(handle)
    mlflow.sklearn.save_model(model, args["out"], serialization_format="cloudpickle")
    sample = np.asarray(args["sample"], dtype=np.float64)
    return {
        "sklearn": sklearn.__version__,
        "predictions": [int(p) for p in model.predict(sample)],
    }


def version(args: Args) -> dict[str, Any]:
    import mlflow

    return {"version": mlflow.__version__}


COMMANDS = {"save-model": save_model, "version": version}

if __name__ == "__main__":
    command, raw = sys.argv[1], sys.argv[2]
    result = COMMANDS[command](json.loads(raw))
    sys.stdout.write(json.dumps(result) + "\n")
