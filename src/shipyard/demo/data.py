"""The data set of the story: scikit-learn's bundled 8x8 digits (a small MNIST).

It ships inside scikit-learn, so the demo needs no download. Its content hash
is logged with every run, which answers "with which data?" later.
"""

from __future__ import annotations

from dataclasses import dataclass

import blake3
import numpy as np
import numpy.typing as npt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

DATASET_NAME = "sklearn.datasets.load_digits"

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
