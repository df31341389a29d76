"""Seed data for the UI tests: experiments and runs written through the real stores.

The numbers are chosen so that tests know the answers: in ``mnist`` the run
``mnist-07`` has the best ``test_accuracy`` and the lowest ``lr`` belongs to
``mnist-01``.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.data.add import add_path
from shipyard.entities import ArtifactEntry, Metric, Param, RunStatus, Tag
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.base import BlobStore, Store
from shipyard.store.sql.store import SqlStore

BASE_TIME = 1_735_689_600_000  # 2025-01-01 00:00:00 UTC
MNIST_RUNS = 12
HISTORY_STEPS = 300
BEST_RUN = "mnist-07"


@dataclass
class Seeded:
    store_uri: str
    artifacts_uri: str
    experiments: dict[str, str] = field(default_factory=dict)  # name -> id
    runs: dict[str, str] = field(default_factory=dict)  # run name -> id


def png(width: int, height: int) -> bytes:
    """A small RGB PNG (a smooth colour field), written without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((40 + 180 * x // width, 90 + 120 * y // height, 200 - 120 * x // width))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def parquet_bytes() -> bytes:
    table = pa.table(
        {
            "image_id": list(range(100)),
            "label": [i % 10 for i in range(100)],
            "predicted": [(i * 7) % 10 for i in range(100)],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _artifacts(blob_store: BlobStore) -> list[ArtifactEntry]:
    files = {
        "environment/requirements.txt": b"numpy==2.1.0\npandas==2.2.3\nscikit-learn==1.5.2\n",
        "environment/system.json": json.dumps({"host": "gpu-box", "cpu_count": 16}).encode(),
        "code/uncommitted.diff": b"--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n"
        b"-lr = 0.1\n+lr = 0.01\n",
        "plots/confusion_matrix.png": png(160, 120),
        "predictions.csv": b"image_id,label,predicted\n"
        + b"".join(f"{i},{i % 10},{(i * 7) % 10}\n".encode() for i in range(200)),
        "metrics.json": json.dumps({"accuracy": 0.981, "per_class": list(range(10))}).encode(),
        "data/sample.parquet": parquet_bytes(),
        "model/weights.bin": bytes(range(256)) * 8,
        "notes.txt": b"Best run of the sweep.\n",
    }
    entries = []
    for path, content in files.items():
        digest, size = blob_store.put(io.BytesIO(content))
        entries.append(ArtifactEntry(path, size, digest))
    return entries


def _history(key: str, index: int, start: int) -> list[Metric]:
    rate = 0.004 + 0.001 * index
    points = []
    for step in range(HISTORY_STEPS):
        noise = 0.03 * math.sin(step * 1.7 + index)
        if key == "loss":
            value = 2.3 * math.exp(-rate * step) + 0.05 + noise
        else:
            value = 0.99 - 0.9 * math.exp(-rate * step) + noise / 3
        points.append(Metric(key, value, step, start + step * 1000))
    return points


def _test_accuracy(index: int) -> float:
    # mnist-07 (index 6) is the best; the others spread below it.
    return round(0.985 - 0.004 * abs(index - 6) - 0.0005 * index, 4)


def seed_mnist(store: Store, blob_store: BlobStore, seeded: Seeded) -> None:
    experiment = store.create_experiment("mnist", tags={"team": "vision"})
    seeded.experiments["mnist"] = experiment.id
    lrs = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3]
    for index in range(MNIST_RUNS):
        name = f"mnist-{index + 1:02d}"
        start = BASE_TIME + index * 3_600_000
        tags = {
            "shipyard.git.commit": f"{index:02d}3f9c1b8e4d2a7f6e5c4b3a291807f6e5d4c3b2a",
            "shipyard.git.branch": "main",
            "shipyard.git.dirty": "True" if name == BEST_RUN else "False",
            "shipyard.source.entry_point": "train.py",
            "shipyard.source.command": f"python train.py --lr {lrs[index]}",
            "shipyard.python.version": "3.11.9",
            "shipyard.host": "gpu-box",
        }
        run = store.create_run(experiment.id, name=name, tags=tags, start_time=start, user="ana")
        seeded.runs[name] = run.id
        params = [
            Param("lr", str(lrs[index])),
            Param("model", "cnn" if index % 2 == 0 else "mlp"),
            Param("batch_size", "64" if index < 6 else "128"),
            Param("epochs", "10"),
        ]
        metrics = [*_history("loss", index, start), *_history("accuracy", index, start)]
        metrics.append(Metric("test_accuracy", _test_accuracy(index), 0, start + 400_000))
        store.log_batch(run.id, metrics=metrics, params=params, tags=[Tag("dataset", "mnist-v2")])
        status = RunStatus.FAILED if index == 11 else RunStatus.FINISHED
        if index != 10:  # mnist-11 is still running
            store.update_run(run.id, status=status, end_time=start + 400_000 + index * 5_000)
        if name == BEST_RUN:
            store.log_artifacts(run.id, _artifacts(blob_store))


def seed_fraud(store: Store, seeded: Seeded) -> None:
    experiment = store.create_experiment("fraud-detection")
    seeded.experiments["fraud-detection"] = experiment.id
    for index in range(4):
        name = f"fraud-{index + 1}"
        start = BASE_TIME + 50 * 3_600_000 + index * 60_000
        run = store.create_run(experiment.id, name=name, start_time=start, user="li")
        seeded.runs[name] = run.id
        store.log_batch(
            run.id,
            metrics=[Metric("auc", 0.90 + index / 100, 0, start + 1000)],
            params=[Param("max_depth", str(3 + index)), Param("model", "xgboost")],
        )
        store.update_run(run.id, status=RunStatus.FINISHED, end_time=start + 90_000)


PROFILE = {
    "files": {
        "train.csv": {
            "row_count": 120,
            "columns": {
                "brightness": {
                    "type": "float64",
                    "missing_share": 0.0,
                    "min": 0.02,
                    "max": 0.97,
                    "mean": 0.48,
                    "std": 0.21,
                    "histogram": {
                        "counts": [3, 8, 15, 24, 30, 22, 11, 5, 2],
                        "edges": [i / 9 for i in range(10)],
                    },
                },
                "label": {
                    "type": "string",
                    "missing_share": 0.025,
                    "top": [["3", 16], ["7", 14], ["1", 13]],
                },
            },
        }
    }
}


def seed_dataset(store: Store, blob_store: BlobStore, folder: Path, seeded: Seeded) -> None:
    """Dataset ``mnist-images``: v1, then v2 with one file changed and one added."""
    data = folder / "dataset"
    data.mkdir()
    (data / "train.csv").write_text("brightness,label\n" + "0.5,3\n" * 100)
    (data / "README.md").write_text("MNIST sample\n")
    add_path(store, blob_store, data, "mnist-images", message="first cut", quiet=True)
    (data / "train.csv").write_text("brightness,label\n" + "0.4,7\n" * 120)
    (data / "test.csv").write_text("brightness,label\n0.1,1\n")
    added = add_path(
        store, blob_store, data, "mnist-images", message="more rows", tags=["golden"], quiet=True
    )
    store.set_dataset_version_profile("mnist-images", added.version.version, PROFILE)
    store.log_run_inputs(seeded.runs[BEST_RUN], [("mnist-images", added.version.version)])


def seed(folder: Path) -> Seeded:
    """A store under ``folder`` with experiments ``mnist``, ``fraud-detection`` and ``empty``."""
    seeded = Seeded(f"sqlite:///{folder / 'shipyard.db'}", str(folder / "blobs"))
    store = SqlStore(seeded.store_uri)
    blob_store = FsspecBlobStore(seeded.artifacts_uri)
    try:
        seed_mnist(store, blob_store, seeded)
        seed_fraud(store, seeded)
        seeded.experiments["empty"] = store.create_experiment("empty").id
        seed_dataset(store, blob_store, folder, seeded)
    finally:
        store.close()
        blob_store.close()
    return seeded
