"""The synthetic runs and histories both tools are populated with.

Standard library only: the MLflow driver imports this module inside MLflow's
own virtual environment, so both stores hold exactly the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

N_METRICS = 20
N_PARAMS = 10
PARAM_CHOICES = ("a", "b", "c", "d")
# What the search benchmark asks both tools (about 1 run in 8 matches).
SEARCH_FILTER = "metrics.m1 > 0.5 and params.p1 = 'a'"
SEARCH_ORDER_BY = "metrics.m2 DESC"
SEARCH_PAGE = 100
HISTORY_KEY = "loss"
BASE_TIME_MS = 1_700_000_000_000


@dataclass(frozen=True, slots=True)
class SyntheticRun:
    run_id: str
    name: str
    start_time: int
    end_time: int
    params: dict[str, str]
    metrics: dict[str, float]


def runs(count: int, seed: int = 7) -> Iterator[SyntheticRun]:
    """``count`` finished runs with 10 params (``p0..p9``) and 20 metrics (``m0..m19``)."""
    rng = random.Random(seed)
    for index in range(count):
        start = BASE_TIME_MS + index * 1000
        yield SyntheticRun(
            run_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            name=f"run-{index}",
            start_time=start,
            end_time=start + 500,
            params={f"p{k}": rng.choice(PARAM_CHOICES) for k in range(N_PARAMS)},
            metrics={f"m{k}": rng.random() for k in range(N_METRICS)},
        )


def history(points: int, seed: int = 11) -> Iterator[tuple[int, float, int]]:
    """(step, value, timestamp) of a noisy, decreasing training loss."""
    rng = random.Random(seed)
    for step in range(points):
        value = 2.0 / (1.0 + step / 1000.0) + rng.random() * 0.05
        yield step, value, BASE_TIME_MS + step
