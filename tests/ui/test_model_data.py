"""The model pages' helpers: manifests, evaluation groups and the lineage layout."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

from shipyard.entities import ArtifactEntry, Evaluation, ModelVersion, ModelVersionStatus
from shipyard.server.ui.lineage import (
    ALIAS,
    DATA,
    NODE_HEIGHT,
    NODE_WIDTH,
    RUN,
    VERSION,
    Graph,
    Node,
    layout,
)
from shipyard.server.ui.model_data import (
    evaluation_groups,
    example_view,
    model_folders,
    parse_package,
    read_package,
)
from shipyard.store.artifacts import FsspecBlobStore


def version(digest: str) -> ModelVersion:
    return ModelVersion(
        "m", 1, "runs:/r/model", "r", digest, None, None, None, 0, 0, ModelVersionStatus.READY
    )


def evaluation(
    id_: str, number: int, metrics: dict[str, float], dataset_version: int = 1
) -> Evaluation:
    return Evaluation(
        id_, f"models:/m/{number}", "m", number, "d", dataset_version, "classification",
        "y", metrics, {}, {}, 10, None, number,
    )  # fmt: skip


def test_manifest_is_read_from_the_blob_store(tmp_path: Path) -> None:
    blobs = FsspecBlobStore(str(tmp_path / "blobs"))
    manifest = {
        "format": 1,
        "flavor": "sklearn",
        "signature": {
            "kind": "columns",
            "inputs": [{"name": "age", "dtype": "int64", "shape": [-1]}],
            "outputs": [],
        },
        "environment": {"python": "3.11.9", "packages": {"skops": "0.10", "numpy": "2.1.0"}},
        "files": {"model.skops": {"digest": "a" * 64, "size": 12}},
        "datasets": [{"dataset": "census", "version": 3}, {"dataset": "bad", "version": "x"}],
    }
    digest, _ = blobs.put(io.BytesIO(json.dumps(manifest).encode()))
    package = read_package(blobs, version(digest))
    assert package is not None
    assert package.flavor == "sklearn" and package.signature_kind == "columns"
    assert [(s.name, s.dtype, s.shape) for s in package.inputs] == [("age", "int64", "[any]")]
    assert package.packages == [("numpy", "2.1.0"), ("skops", "0.10")]
    assert package.datasets == [("census", 3)]
    assert package.files[0].name == "model.skops" and package.files[0].size == 12
    not_json, _ = blobs.put(io.BytesIO(b"\x00\x01 not json"))
    assert read_package(blobs, version(not_json)) is None
    assert read_package(blobs, version("b" * 64)) is None  # not in the store


def test_a_manifest_of_another_shape_still_parses() -> None:
    package = parse_package({"signature": "tensor", "environment": None, "files": ["x"]})
    assert package.flavor is None and package.inputs == [] and package.files == []


def test_model_folders_are_found_by_their_manifest() -> None:
    entries = [
        ArtifactEntry("model/shipyard-model.json", 10, "a" * 64),
        ArtifactEntry("model/model.skops", 10, "b" * 64),
        ArtifactEntry("shipyard-model.json", 10, "c" * 64),
        ArtifactEntry("other/not-shipyard-model.json", 10, "d" * 64),
    ]
    assert model_folders(entries) == {"": "c" * 64, "model": "a" * 64}


def test_evaluations_compare_within_a_dataset_version() -> None:
    groups = evaluation_groups(
        [
            evaluation("e3", 3, {"accuracy": 0.90, "log_loss": 0.30}, dataset_version=2),
            evaluation("e2", 2, {"accuracy": 0.95, "log_loss": 0.20}),
            evaluation("e1", 1, {"accuracy": 0.93, "log_loss": 0.10}),
        ]
    )
    assert [g.label for g in groups] == ["d v2", "d v1"]
    assert groups[0].best == {}  # alone on its data: nothing to beat
    assert [row.id for row in groups[1].rows] == ["e2", "e1"]
    # Higher accuracy wins; for a loss, lower does.
    assert groups[1].best == {("e2", "accuracy"): True, ("e1", "log_loss"): True}


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] - b[0]) < NODE_WIDTH and abs(a[1] - b[1]) < NODE_HEIGHT


def test_lineage_layout_keeps_columns_in_order_without_overlaps() -> None:
    graph = Graph()
    for number in (3, 2, 1):
        version_key = graph.add(Node(f"version:{number}", VERSION, f"v{number}"))
        run_key = graph.add(Node(f"run:{number}", RUN, f"run {number}"))
        graph.link(run_key, version_key)
        data_key = graph.add(Node(f"data:{min(number, 2)}", DATA, "d"))
        graph.link(data_key, run_key)
    graph.link(graph.add(Node("alias:production", ALIAS, "@production")), "x")  # dangling
    graph.link("version:2", "alias:production")
    drawn = layout(graph)
    place = {p.node.key: (p.x, p.y) for p in drawn.nodes}
    assert [h for _, h in drawn.headings] == ["Data", "Run", "Model version", "Alias"]
    assert (
        place["data:1"][0]
        < place["run:1"][0]
        < place["version:1"][0]
        < place["alias:production"][0]
    )
    # Each run sits level with its version; the alias beside the version it names.
    assert all(place[f"run:{n}"][1] == place[f"version:{n}"][1] for n in (1, 2, 3))
    assert place["version:3"][1] < place["version:2"][1] < place["version:1"][1]
    assert all(not overlaps(place[a], place[b]) for a, b in itertools.combinations(place, 2))
    assert len(drawn.paths) == 3 + 3 + 1  # the edge to a missing node is left out
    assert all(x >= 0 and x + NODE_WIDTH <= drawn.width for x, _ in place.values())
    assert all(y + NODE_HEIGHT <= drawn.height for _, y in place.values())


def test_long_labels_are_shortened_with_the_full_text_kept() -> None:
    graph = Graph()
    graph.add(Node("run:1", RUN, "a-very-long-run-name-that-goes-on-and-on", "run · finished"))
    placed = layout(graph).nodes[0]
    assert placed.label.endswith("…") and len(placed.label) <= 24
    assert placed.title == "a-very-long-run-name-that-goes-on-and-on (run · finished)"
    assert not layout(Graph())


def test_input_examples_read_as_a_table_or_as_rows() -> None:
    frame = example_view(
        {
            "type": "dataframe",
            "columns": ["age", "city"],
            "dtypes": {"age": "int64", "city": "str"},
            "data": [[31, "Oslo"], [None, "x" * 200]],
        }
    )
    assert frame.columns == ["age", "city"] and frame.note == "2 rows"
    assert frame.rows[0] == ["31", "Oslo"] and frame.rows[1][0] == "null"
    assert frame.rows[1][1].endswith("…") and len(frame.rows[1][1]) == 80
    array = example_view({"type": "ndarray", "dtype": "float64", "data": [[1.5] * 500] * 30})
    assert array.note == "20 rows of float64" and len(array.lines) == 20
    assert array.lines[0].startswith("[1.5, 1.5") and array.lines[0].endswith("… (500 values)")
    assert example_view({"a": 1}).lines == ['{"a": 1}']
