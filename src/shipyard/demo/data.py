"""The data set of the story: scikit-learn's bundled 8x8 digits (a small MNIST).

It ships inside scikit-learn, so the demo needs no download. The train and
held-out test splits are versioned as datasets (``digits-train``,
``digits-test``: tables of 64 pixel columns and the target, profiled), the
models train on what the store gives back, and every run records the versions
it used, which answers "with which data?" later. The same split again is the
same content: a second demo reuses the versions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import blake3
import numpy as np
import numpy.typing as npt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import shipyard as sy
from shipyard.entities import DatasetVersion
from shipyard.errors import NotFoundError

DATASET_NAME = "sklearn.datasets.load_digits"
TRAIN_DATASET = "digits-train"
TEST_DATASET = "digits-test"
TARGET = "target"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Digits:
    """A fixed, stratified train/test split of the digits data set."""

    x_train: FloatArray
    x_test: FloatArray
    y_train: IntArray
    y_test: IntArray
    digest: str  # BLAKE3 of the features and labels, in a fixed byte order
    n_samples: int
    n_features: int
    test_size: float
    seed: int

    @property
    def classes(self) -> list[int]:
        return sorted(int(label) for label in np.unique(self.y_train))

    def describe(self) -> dict[str, str]:
        """The params a run logs about its data."""
        return {
            "data.name": DATASET_NAME,
            "data.digest": self.digest,
            "data.n_samples": str(self.n_samples),
            "data.n_features": str(self.n_features),
            "data.test_size": str(self.test_size),
            "data.seed": str(self.seed),
        }


def load(test_size: float = 0.25, seed: int = 0, max_samples: int | None = None) -> Digits:
    """Load the digits, scaled to [0, 1], optionally subsampled (stratified) for quick runs."""
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    if max_samples is not None and max_samples < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=max_samples, stratify=y, random_state=seed)
    hasher = blake3.blake3()
    hasher.update(np.ascontiguousarray(x).tobytes())
    hasher.update(np.ascontiguousarray(y).tobytes())
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    return Digits(
        x_train=x_train,
        x_test=x_test,
        y_train=y_train,
        y_test=y_test,
        digest=hasher.hexdigest(),
        n_samples=len(y),
        n_features=x.shape[1],
        test_size=test_size,
        seed=seed,
    )


def pixel_columns(n_features: int) -> list[str]:
    return [f"pixel_{index}" for index in range(n_features)]


def to_frame(x: FloatArray, y: IntArray) -> Any:
    """One split as a table: ``pixel_0`` ... ``pixel_63`` (scaled to [0, 1]) and ``target``."""
    import pandas as pd

    frame = pd.DataFrame(x, columns=pixel_columns(x.shape[1]))
    frame[TARGET] = y
    return frame


@dataclass(frozen=True, slots=True)
class Versioned:
    """A split as the store holds it, and whether this demo run created that version."""

    version: DatasetVersion
    created: bool

    @property
    def label(self) -> str:
        return f"{self.version.dataset}@{self.version.version}"


def _log_split(name: str, x: FloatArray, y: IntArray, message: str) -> Versioned:
    try:
        before: DatasetVersion | None = sy.data.resolve(f"{name}@latest")
    except NotFoundError:
        before = None
    version = sy.data.log_table(to_frame(x, y), name, message=message)
    return Versioned(version, before is None or before.version != version.version)


def version_splits(data: Digits) -> tuple[Versioned, Versioned]:
    """Log the train and test splits as dataset versions (unchanged content: reused)."""
    how = f"{DATASET_NAME}, stratified split (test share {data.test_size}, seed {data.seed})"
    train = _log_split(
        TRAIN_DATASET,
        data.x_train,
        data.y_train,
        f"training split: {len(data.y_train)} digits of 8x8 pixels; {how}",
    )
    test = _log_split(
        TEST_DATASET,
        data.x_test,
        data.y_test,
        f"held-out test split: {len(data.y_test)} digits of 8x8 pixels; {how}",
    )
    return train, test


def from_store(data: Digits, train: DatasetVersion, test: DatasetVersion) -> Digits:
    """``data`` with its splits read back from the dataset versions (what the models see)."""

    def split(version: DatasetVersion) -> tuple[FloatArray, IntArray]:
        frame = sy.data.load_table(version)
        x = frame[pixel_columns(data.n_features)].to_numpy(dtype=np.float64)
        return x, frame[TARGET].to_numpy(dtype=np.int64)

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    return replace(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
