"""The adaptive batcher, driven directly: coalescing, ordering, limits, failures."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.serving.batcher import Batcher, ModelRefusedInput
from tests.serving.support import LinearClassifier, TextScorer


async def _request(batcher: Batcher, x: np.ndarray[Any, Any], proba: bool = False) -> Any:
    with batcher.arriving():
        await asyncio.sleep(0)  # the body is being read
        prepared = batcher.model.prepare(x)
    return await batcher.predict(prepared, proba=proba)


def test_a_lone_request_does_not_wait_for_company() -> None:
    model = LinearClassifier()
    batcher = Batcher(model, max_latency_ms=2000)

    async def main() -> float:
        started = time.perf_counter()
        await _request(batcher, np.ones((1, 4)))
        elapsed = time.perf_counter() - started
        await batcher.close()
        return elapsed

    assert asyncio.run(main()) < 0.5
    assert model.calls == [1]


def test_concurrent_requests_share_calls_and_get_exactly_their_own_rows() -> None:
    model = LinearClassifier()
    model.call_seconds = 0.01
    sizes: list[int] = []
    batcher = Batcher(
        model, max_batch_size=64, max_latency_ms=20, observer=lambda n, rows, s: sizes.append(n)
    )
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(1 + i % 3, 4)) for i in range(64)]

    async def main() -> list[Any]:
        results = await asyncio.gather(*(_request(batcher, x, proba=True) for x in inputs))
        await batcher.close()
        return results

    results = asyncio.run(main())
    for x, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result.predictions, model.expected(x))
        assert result.probabilities.shape == (len(x), 3)
        np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0)
    assert max(sizes) > 1
    assert sum(sizes) == 64
    assert all(rows <= 64 for rows in model.calls)


def test_max_batch_size_bounds_the_rows_of_a_call() -> None:
    model = LinearClassifier()
    model.call_seconds = 0.005
    batcher = Batcher(model, max_batch_size=8, max_latency_ms=50)
    inputs = [np.full((3, 4), i, dtype=float) for i in range(20)]

    async def main() -> list[Any]:
        results = await asyncio.gather(*(_request(batcher, x) for x in inputs))
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert all(rows <= 8 for rows in model.calls[1:] if rows)  # [0] is the first lone call
    assert max(model.calls) <= 8
    for x, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result.predictions, model.expected(x))


def test_one_bad_request_fails_alone() -> None:
    model = LinearClassifier()
    model.call_seconds = 0.01
    batcher = Batcher(model, max_latency_ms=50)

    async def raw(x: np.ndarray[Any, Any]) -> Any:
        with batcher.arriving():
            await asyncio.sleep(0)
        return await batcher.predict(x)  # not prepared: the model sees the bad shape

    async def main() -> list[Any]:
        good = [np.ones((1, 4)) * i for i in range(6)]
        tasks = [raw(x) for x in good[:3]] + [raw(np.ones((1, 3)))] + [raw(x) for x in good[3:]]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[3], ModelRefusedInput)
    assert "the model refused the input" in results[3].message
    assert all(not isinstance(r, BaseException) for i, r in enumerate(results) if i != 3)


def test_dataframes_concatenate_and_split_by_rows() -> None:
    model = TextScorer()
    batcher = Batcher(model, max_latency_ms=20)
    frames = [pd.DataFrame({"city": ["a" * i, "bb"], "age": [i, 1]}) for i in range(1, 10)]

    async def main() -> list[Any]:
        async def one(frame: pd.DataFrame) -> Any:
            with batcher.arriving():
                await asyncio.sleep(0)
                prepared = model.prepare(frame)
            return await batcher.predict(prepared)

        results = await asyncio.gather(*(one(f) for f in frames))
        await batcher.close()
        return results

    for frame, result in zip(frames, asyncio.run(main()), strict=True):
        assert result.predictions.tolist() == [len(frame.city[0]) * 10 + frame.age[0], 21.0]


def test_close_answers_what_was_queued() -> None:
    model = LinearClassifier()
    model.call_seconds = 0.01
    batcher = Batcher(model)

    async def main() -> list[Any]:
        tasks = [asyncio.ensure_future(_request(batcher, np.ones((1, 4)))) for _ in range(10)]
        await asyncio.sleep(0.005)
        await batcher.close()
        return await asyncio.gather(*tasks)

    assert len(asyncio.run(main())) == 10


def test_bad_max_batch_size_is_refused() -> None:
    with pytest.raises(ValueError):
        Batcher(LinearClassifier(), max_batch_size=0)


def test_sub_millisecond_waits_under_uvloop() -> None:
    """uvloop rounds a wait under half a millisecond to none and answers call_at with a
    plain handle; the batcher must keep coalescing (the server runs on uvloop)."""
    uvloop = pytest.importorskip("uvloop")
    model = LinearClassifier()
    batcher = Batcher(model, max_batch_size=64, max_latency_ms=0.2)
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(1, 4)) for _ in range(200)]

    async def main() -> list[Any]:
        results = await asyncio.gather(*(_request(batcher, x) for x in inputs))
        await batcher.close()
        return results

    results = uvloop.run(main())
    for x, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result.predictions, model.expected(x))
