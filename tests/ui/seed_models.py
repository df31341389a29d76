"""Registered models for the UI tests, written through the real registry store.

``mnist-cnn`` has three versions made by three ``mnist`` runs; v2 comes from
the best run (``mnist-07``), beat v1 on ``mnist-images`` v2 and took the
``production`` alias from it; v3 was refused by the gate, lost ``staging`` and
was archived. ``fraud-xgb`` has one version and nothing else; ``legacy-ranker``
one version made outside any run, whose manifest is not in the blob store;
``draft`` no version at all; ``digits`` one version logged for real by
``run.log_model`` (scikit-learn on the digits data set), so the pages read the
manifest the packaging code writes today. Monitoring data (a monitor of
``mnist-cnn@production`` and its reports) comes from :mod:`tests.ui.seed_monitoring`.
"""

from __future__ import annotations

import io
import json

import blake3

from shipyard.entities import ArtifactEntry, ModelVersionStatus
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.base import BlobStore, Store
from shipyard.store.sql.store import SqlStore
from tests.ui.seed import BASE_TIME, BEST_RUN, Seeded, png

MODEL = "mnist-cnn"
PRODUCTION_VERSION = 2
SMALL_MODEL = "fraud-xgb"
LOST_MODEL = "legacy-ranker"
EMPTY_MODEL = "draft"
REAL_MODEL = "digits"
MODEL_COUNT = 5
PLOT = "confusion_matrix.png"
PLOT_SIZE = (200, 150)
# (run, version) of each mnist-cnn version; its test accuracy on mnist-images v2.
VERSIONS = {1: "mnist-05", 2: BEST_RUN, 3: "mnist-09"}
TRAINED_ON = {1: 1, 2: 2, 3: 2}  # the mnist-images version each was trained on
ACCURACY = {1: 0.978, 2: 0.982, 3: 0.975}
SIGNATURE = {
    "kind": "tensor",
    "inputs": [{"name": "pixels", "dtype": "float32", "shape": [-1, 784]}],
    "outputs": [{"name": "digit", "dtype": "int64", "shape": [-1]}],
}


def _put(blob_store: BlobStore, content: bytes) -> tuple[str, int]:
    return blob_store.put(io.BytesIO(content))


def log_package(
    store: Store,
    blob_store: BlobStore,
    run_id: str,
    flavor: str,
    model_file: str,
    datasets: list[tuple[str, int]],
) -> str:
    """A model package under the run's ``model/`` folder; returns the manifest's digest."""
    rows = [[0.0] * 784, [0.5] * 784]
    example = json.dumps({"type": "ndarray", "dtype": "float32", "data": rows}).encode()
    files = {model_file: _put(blob_store, bytes(range(256)) * 4)}
    files["input_example.json"] = _put(blob_store, example)
    manifest = {
        "format": 1,
        "flavor": flavor,
        "flavor_options": {"opset": 17} if flavor == "onnx" else {},
        "signature": SIGNATURE,
        "input_example": "input_example.json",
        "environment": {
            "python": "3.11.9",
            "packages": {"numpy": "2.1.0", "onnxruntime": "1.20.1", "scikit-learn": "1.5.2"},
        },
        "run_id": run_id,
        "artifact_path": "model",
        "datasets": [{"dataset": name, "version": number} for name, number in datasets],
        "files": {name: {"digest": digest, "size": size} for name, (digest, size) in files.items()},
        "predict_proba": True,
        "created_at": BASE_TIME,
    }
    manifest_digest, manifest_size = _put(blob_store, json.dumps(manifest, indent=1).encode())
    entries = [
        ArtifactEntry(f"model/{name}", size, digest) for name, (digest, size) in files.items()
    ]
    entries.append(ArtifactEntry("model/shipyard-model.json", manifest_size, manifest_digest))
    store.log_artifacts(run_id, entries)
    return manifest_digest


def _evaluate(store: Store, blob_store: BlobStore, version: int) -> str:
    plot, _ = _put(blob_store, png(*PLOT_SIZE))
    accuracy = ACCURACY[version]
    evaluation = store.log_evaluation(
        f"models:/{MODEL}/{version}",
        task="classification",
        target="label",
        metrics={"accuracy": accuracy, "f1_macro": round(accuracy - 0.003, 4), "log_loss": 0.1},
        details={"labels": list(range(10))},
        plots={PLOT: plot},
        row_count=120,
        model_name=MODEL,
        model_version=version,
        dataset="mnist-images",
        dataset_version=2,
        user="ana",
    )
    return evaluation.id


def seed_models(store: Store, blob_store: BlobStore, seeded: Seeded) -> None:
    store.log_run_inputs(seeded.runs["mnist-05"], [("mnist-images", 1)])
    for number, run_name in VERSIONS.items():
        run_id = seeded.runs[run_name]
        datasets = [("mnist-images", TRAINED_ON[number])]
        digest = log_package(store, blob_store, run_id, "onnx", "model.onnx", datasets)
        store.create_model_version(
            MODEL,
            f"runs:/{run_id}/model",
            digest,
            run_id=run_id,
            flavor="onnx",
            description=f"CNN trained by {run_name}",
            user="ana",
        )
        if number == 1:
            store.update_registered_model(MODEL, "Digit classifier for the scanning service")
            store.set_model_alias(MODEL, "production", 1, user="ana", reason="first release")
    v1, v2, v3 = (_evaluate(store, blob_store, number) for number in VERSIONS)
    for candidate, incumbent, promoted, candidate_id, incumbent_id in (
        (2, 1, True, v2, v1),
        (3, 2, False, v3, v2),
    ):
        reason = (
            f"v{candidate} scored {ACCURACY[candidate]} against v{incumbent}'s "
            f"{ACCURACY[incumbent]} on mnist-images v2"
        )
        if promoted:
            store.set_model_alias(MODEL, "production", candidate, user="gate", reason=reason)
        else:
            store.set_model_alias(MODEL, "staging", candidate, user="ana", reason="try v3")
        store.log_promotion_decision(
            MODEL,
            "production",
            candidate_version=candidate,
            incumbent_version=incumbent,
            metric="accuracy",
            greater_is_better=True,
            candidate_score=ACCURACY[candidate],
            incumbent_score=ACCURACY[incumbent],
            min_delta=0.001,
            thresholds={"accuracy": 0.95},
            promoted=promoted,
            reason=reason,
            candidate_evaluation_id=candidate_id,
            incumbent_evaluation_id=incumbent_id,
            dataset="mnist-images",
            dataset_version=2,
            user="gate",
        )
    store.delete_model_alias(MODEL, "staging", user="ana", reason="refused by the gate")
    store.update_model_version(MODEL, 3, status=ModelVersionStatus.ARCHIVED)

    run_id = seeded.runs["fraud-2"]
    digest = log_package(store, blob_store, run_id, "sklearn", "model.skops", [])
    store.create_model_version(
        SMALL_MODEL, f"runs:/{run_id}/model", digest, run_id=run_id, flavor="sklearn", user="li"
    )
    never_stored = blake3.blake3(b"a manifest this blob store never saw").hexdigest()
    store.create_model_version(LOST_MODEL, "s3://old-bucket/ranker", never_stored)
    store.create_registered_model(EMPTY_MODEL, description="Nothing registered yet")


def log_real_model(seeded: Seeded) -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from shipyard.tracking.client import Client

    features, labels = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(features[:600], labels[:600])
    with Client(seeded.store_uri, artifacts_uri=seeded.artifacts_uri) as client:
        with client.start_run("digits-logreg", "digits", capture=False) as run:
            run.use_dataset("datasets:/mnist-images/1")
            run.log_model(model, input_example=features[:5], registered_model_name=REAL_MODEL)
        seeded.runs["digits-logreg"] = run.id
        seeded.experiments["digits"] = run.experiment_id


def seed_registry(seeded: Seeded) -> None:
    """Add the models to the store :func:`tests.ui.seed.seed` wrote."""
    log_real_model(seeded)
    store = SqlStore(seeded.store_uri)
    blob_store = FsspecBlobStore(seeded.artifacts_uri)
    try:
        seed_models(store, blob_store, seeded)
    finally:
        store.close()
        blob_store.close()
    from tests.ui.seed_monitoring import seed_monitoring  # it reads this module's names

    seed_monitoring(seeded)
