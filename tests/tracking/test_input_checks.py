"""The reading and logging API turns bad arguments into InvalidInputError."""

from __future__ import annotations

import numpy as np
import pytest

import shipyard as sy
from shipyard.errors import InvalidInputError

pytestmark = pytest.mark.usefixtures("store_uri")


def test_an_unknown_view_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="view"):
        sy.search_runs(view="bogus")


def test_a_numpy_boolean_is_not_a_metric_value() -> None:
    with sy.start_run(capture=False) as run:
        with pytest.raises(InvalidInputError):
            run.log_metric("flag", np.bool_(True))
        run.log_metric("acc", np.float32(0.5))
    assert set(sy.get_run(run.id).metrics) == {"acc"}
