"""``shipyard gc`` keeps what the model registry names: a registered package's manifest blob
(even of an archived version, and even when no run artifact names it) and evaluation plots."""

from __future__ import annotations

import io
from pathlib import Path

from shipyard.data.gc import collect_garbage
from shipyard.entities import ModelVersionStatus
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.sql.store import SqlStore


def test_gc_keeps_model_packages_and_evaluation_plots(tmp_path: Path) -> None:
    blobs = FsspecBlobStore(str(tmp_path / "blobs"))
    with SqlStore(f"sqlite:///{tmp_path / 'shipyard.db'}") as store:
        package, _ = blobs.put(io.BytesIO(b'{"format": 1, "flavor": "sklearn"}'))
        retired, _ = blobs.put(io.BytesIO(b'{"format": 1, "flavor": "onnx"}'))
        plot, _ = blobs.put(io.BytesIO(b"\x89PNG confusion matrix"))
        orphan, _ = blobs.put(io.BytesIO(b"left by an interrupted log_model"))
        store.create_model_version("digits", "runs:/x/model", package)
        store.create_model_version("digits", "runs:/y/model", retired)
        store.update_model_version("digits", 2, status=ModelVersionStatus.ARCHIVED)
        store.log_evaluation(
            "models:/digits/1",
            "classification",
            "label",
            {"accuracy": 0.9},
            {},
            {"confusion_matrix.png": plot},
            10,
            model_name="digits",
            model_version=1,
        )

        result = collect_garbage(store, blobs, grace_seconds=0)

    assert [blob.digest for blob in result.removed] == [orphan]
    assert all(blobs.exists(digest) for digest in (package, retired, plot))
    assert not blobs.exists(orphan)
