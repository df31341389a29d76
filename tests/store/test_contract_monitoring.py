"""Store contract: prediction log index, feedback labels, monitors, reports, gc references.

Runs on SQLite, PostgreSQL and the REST store. Over REST a log file or report
must be a stored blob, so blobs are uploaded through the server first.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable

import pytest

from shipyard.entities import now_ms
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.base import Store
from shipyard.store.hashing import hash_bytes
from tests.store.conftest import unique

PutBlob = Callable[[bytes], str]


@pytest.fixture
def put_blob(store: Store) -> PutBlob:
    """Store bytes as a blob where the store checks blobs (REST, through the server)."""
    from shipyard.store.rest.store import RestStore

    def put(data: bytes) -> str:
        if isinstance(store, RestStore):
            from shipyard.store.rest.blobs import RestBlobStore

            blobs = RestBlobStore(store.base_url)
            try:
                return blobs.put(io.BytesIO(data))[0]
            finally:
                blobs.close()
        return hash_bytes(data)

    return put


@pytest.fixture
def blob(put_blob: PutBlob) -> Callable[[], str]:
    """A new stored blob of unique content; its digest."""
    return lambda: put_blob(uuid.uuid4().hex.encode())


@pytest.fixture
def model() -> str:
    return unique("model")


# -- prediction logs -------------------------------------------------------------------
def test_log_batches_are_indexed_and_listed_by_time_and_version(
    store: Store, blob: Callable[[], str], model: str
) -> None:
    a = store.add_prediction_log_batch(model, 1, 1000, 1999, 10, blob(), 100)
    b = store.add_prediction_log_batch(model, 2, 2000, 2999, 20, blob(), 200)
    c = store.add_prediction_log_batch(model, None, 3000, 3999, 30, blob(), 300)
    store.add_prediction_log_batch(unique("other"), 1, 1000, 1999, 5, blob(), 50)

    assert (a.model_name, a.model_version, a.row_count, a.size) == (model, 1, 10, 100)
    assert (a.min_timestamp, a.max_timestamp) == (1000, 1999)
    assert a.created_at > 0 and len(a.id) == 32
    assert store.list_prediction_log_batches(model) == [a, b, c]
    assert store.list_prediction_log_batches(model, newest_first=True) == [c, b, a]
    # A batch is listed when its time range meets the window, even partly.
    assert store.list_prediction_log_batches(model, since_ms=2500) == [b, c]
    assert store.list_prediction_log_batches(model, until_ms=2000) == [a, b]
    assert store.list_prediction_log_batches(model, since_ms=1999, until_ms=2000) == [a, b]
    assert store.list_prediction_log_batches(model, since_ms=4000) == []
    assert store.list_prediction_log_batches(model, version=2) == [b]
    assert store.list_prediction_log_batches(model, max_results=1, newest_first=True) == [c]
    assert model in store.list_prediction_log_models()


def test_indexing_the_same_file_again_returns_the_first_row(
    store: Store, blob: Callable[[], str], model: str
) -> None:
    digest = blob()
    first = store.add_prediction_log_batch(model, 1, 1000, 2000, 10, digest, 100)
    again = store.add_prediction_log_batch(model, 1, 1000, 2000, 10, digest, 100)
    assert again == first
    assert store.list_prediction_log_batches(model) == [first]


def test_old_batches_are_deleted_and_leave_gc_references(
    store: Store, blob: Callable[[], str], model: str
) -> None:
    old = store.add_prediction_log_batch(model, 1, 1000, 1999, 1, blob(), 10)
    new = store.add_prediction_log_batch(model, 1, 2000, 2999, 1, blob(), 10)
    assert {old.digest, new.digest} <= store.monitoring_referenced_digests()
    assert {old.digest, new.digest} <= store.referenced_digests()

    assert store.delete_prediction_log_batches(model, before_ms=2000) == 1
    assert store.list_prediction_log_batches(model) == [new]
    assert old.digest not in store.monitoring_referenced_digests()
    assert store.delete_prediction_log_batches(model, before_ms=2000) == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("bad/name", 1, 0, 1, 1, "a" * 64, 1), "model name"),
        (("m", 0, 0, 1, 1, "a" * 64, 1), "model version"),
        (("m", 1, 5, 1, 1, "a" * 64, 1), "after max_timestamp"),
        (("m", 1, -1, 1, 1, "a" * 64, 1), "min_timestamp"),
        (("m", 1, 0, 1, -3, "a" * 64, 1), "row count"),
        (("m", 1, 0, 1, 1, "not-a-digest", 1), "digest"),
    ],
)
def test_bad_log_batches_are_refused(store: Store, args: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        store.add_prediction_log_batch(*args)  # type: ignore[arg-type]


def test_listing_logs_checks_its_arguments(store: Store) -> None:
    with pytest.raises(InvalidInputError):
        store.list_prediction_log_batches("m", since_ms=-5)
    with pytest.raises(InvalidInputError):
        store.list_prediction_log_batches("m", version=0)
    with pytest.raises(InvalidInputError):
        store.list_prediction_log_batches("m", max_results=0)
    with pytest.raises(InvalidInputError):
        store.list_prediction_log_batches("a/b")


# -- feedback ----------------------------------------------------------------------------
def test_feedback_is_stored_replaced_and_looked_up(store: Store, model: str) -> None:
    before = now_ms()
    assert store.log_feedback(model, [("r1", 3), ("r2", {"cls": "cat", "p": [0.1, 0.9]})]) == 2
    assert store.log_feedback(model, [("r1", 4)]) == 1  # replaces the first label

    found = {f.request_id: f for f in store.get_feedback(model, ["r1", "r2", "r3"])}
    assert set(found) == {"r1", "r2"}
    assert found["r1"].label == 4
    assert found["r2"].label == {"cls": "cat", "p": [0.1, 0.9]}
    assert found["r1"].model_name == model
    assert found["r1"].created_at >= before
    assert store.get_feedback(unique("other"), ["r1"]) == []

    listed = store.list_feedback(model, since_ms=before)
    assert sorted(f.request_id for f in listed) == ["r1", "r2"]
    assert store.list_feedback(model, until_ms=before - 1) == []


def test_feedback_without_a_model_matches_any_model_and_loses_to_the_models_own(
    store: Store, model: str
) -> None:
    rid_any, rid_both = f"req-{uuid.uuid4().hex}", f"req-{uuid.uuid4().hex}"
    store.log_feedback(None, [(rid_any, "dog"), (rid_both, "unnamed")])
    store.log_feedback(model, [(rid_both, "named")])

    found = {f.request_id: f for f in store.get_feedback(model, [rid_any, rid_both])}
    assert found[rid_any].label == "dog" and found[rid_any].model_name is None
    assert found[rid_both].label == "named" and found[rid_both].model_name == model
    assert rid_any in {f.request_id for f in store.list_feedback(None)}


def test_a_request_id_given_twice_in_one_call_keeps_the_last_label(
    store: Store, model: str
) -> None:
    assert store.log_feedback(model, [("r", 1), ("r", 2)]) == 1
    assert [f.label for f in store.get_feedback(model, ["r"])] == [2]


def test_many_labels_are_looked_up_in_one_call(store: Store, model: str) -> None:
    items = [(f"r{i}", i % 10) for i in range(2500)]
    assert store.log_feedback(model, items) == 2500
    found = store.get_feedback(model, [rid for rid, _ in items])
    assert sorted((f.request_id, f.label) for f in found) == sorted(items)


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ([("r1", None)], "null"),
        ([("r1", float("nan"))], "(?i)nan|JSON"),
        ([("", 1)], "request id"),
        ([("has space", 1)], "request id"),
        ([("x" * 129, 1)], "request id"),
        ([("r1",)], "request id, label|items"),
        ("r1", "list"),
    ],
)
def test_bad_feedback_is_refused(store: Store, items: object, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        store.log_feedback("m", items)  # type: ignore[arg-type]


# -- monitors ----------------------------------------------------------------------------
def test_monitors_are_created_listed_updated_and_deleted(store: Store) -> None:
    uri = f"models:/{unique('m')}@production"
    before = now_ms()
    monitor = store.create_monitor(
        uri,
        3600,
        webhook="http://127.0.0.1:9/hook",
        thresholds={"drift_share": 0.3},
        config={"reference": "datasets:/digits/1", "window_s": 86400},
    )
    assert monitor.model_uri == uri and monitor.every_seconds == 3600
    assert monitor.webhook == "http://127.0.0.1:9/hook"
    assert monitor.thresholds == {"drift_share": 0.3}
    assert monitor.config == {"reference": "datasets:/digits/1", "window_s": 86400}
    assert (monitor.state, monitor.enabled, monitor.last_run_at) == ("pending", True, None)
    assert before <= monitor.next_run_at <= now_ms()
    assert store.get_monitor(monitor.id) == monitor
    assert store.list_monitors(model_uri=uri) == [monitor]

    changed = store.update_monitor(monitor.id, every_seconds=60, state="drift", enabled=False)
    assert (changed.every_seconds, changed.state, changed.enabled) == (60, "drift", False)
    assert changed.webhook == monitor.webhook  # untouched
    assert store.list_monitors(model_uri=uri, enabled=True) == []
    assert store.list_monitors(model_uri=uri, enabled=False) == [changed]
    cleared = store.update_monitor(monitor.id, webhook="")
    assert cleared.webhook is None

    store.delete_monitor(monitor.id)
    with pytest.raises(NotFoundError):
        store.get_monitor(monitor.id)
    with pytest.raises(NotFoundError):
        store.delete_monitor(monitor.id)


def test_due_monitors_and_exactly_one_claim_per_run(store: Store) -> None:
    uri = f"models:/{unique('m')}"
    far = 4_000_000_000_000
    due = store.create_monitor(uri, 60, next_run_at=1000)
    later = store.create_monitor(uri, 60, next_run_at=far)
    off = store.create_monitor(uri, 60, next_run_at=1000, enabled=False)

    ids = [m.id for m in store.due_monitors(now_ms())]
    assert due.id in ids and later.id not in ids and off.id not in ids

    wins: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        wins.append(store.claim_monitor_run(due.id, 1000, 61_000))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, False, True]
    claimed = store.get_monitor(due.id)
    assert claimed.next_run_at == 61_000 and claimed.last_run_at is not None
    assert due.id not in [m.id for m in store.due_monitors(60_999)]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"every_seconds": 0}, "every_seconds"),
        ({"every_seconds": 10**9}, "every_seconds"),
        ({"webhook": "ftp://x"}, "webhook"),
        ({"thresholds": {"a": float("inf")}}, "thresholds|JSON"),
        ({"thresholds": [1, 2]}, "thresholds"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_bad_monitors_are_refused(store: Store, kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"model_uri": "models:/m", "every_seconds": 60, **kwargs}
    with pytest.raises(InvalidInputError, match=fragment):
        store.create_monitor(**args)  # type: ignore[arg-type]


def test_a_monitor_state_is_a_short_word(store: Store) -> None:
    monitor = store.create_monitor("models:/m", 60)
    with pytest.raises(InvalidInputError, match="state"):
        store.update_monitor(monitor.id, state="Not A Word")
    with pytest.raises(NotFoundError):
        store.update_monitor(uuid.uuid4().hex, state="ok")


# -- reports -----------------------------------------------------------------------------
def test_reports_are_recorded_paged_and_outlive_their_monitor(
    store: Store, blob: Callable[[], str], model: str
) -> None:
    monitor = store.create_monitor(f"models:/{model}", 60)
    made = [
        store.create_report(
            model,
            2,
            dataset_drift=i % 2 == 0,
            drift_share=i / 10,
            summary={"drifted": [f"f{i}"]},
            report_digest=blob(),
            html_digest=blob() if i else None,
            monitor_id=monitor.id,
            reference="datasets:/digits/1",
            window_start=1000,
            window_end=2000,
            row_count=500,
        )
        for i in range(5)
    ]
    first = made[0]
    assert (first.model_name, first.model_version, first.monitor_id) == (model, 2, monitor.id)
    assert (first.dataset_drift, first.drift_share, first.html_digest) == (True, 0.0, None)
    assert first.summary == {"drifted": ["f0"]}
    assert (first.reference, first.window_start, first.window_end, first.row_count) == (
        "datasets:/digits/1",
        1000,
        2000,
        500,
    )
    assert store.get_report(first.id) == first

    seen: list[str] = []
    token = None
    while True:
        page = store.list_reports(model_name=model, max_results=2, page_token=token)
        seen += [r.id for r in page.items]
        token = page.next_page_token
        if token is None:
            break
    newest_first = sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)
    assert seen == [r.id for r in newest_first]
    assert len(store.list_reports(monitor_id=monitor.id).items) == 5

    digests = store.monitoring_referenced_digests()
    assert {r.report_digest for r in made} <= digests
    assert {r.html_digest for r in made if r.html_digest} <= digests

    store.delete_monitor(monitor.id)
    assert store.get_report(first.id).monitor_id is None
    store.delete_report(first.id)
    with pytest.raises(NotFoundError):
        store.get_report(first.id)
    assert first.report_digest not in store.monitoring_referenced_digests()


def test_bad_reports_are_refused(store: Store, blob: Callable[[], str]) -> None:
    digest = blob()
    with pytest.raises(InvalidInputError, match="drift share"):
        store.create_report("m", 1, True, 1.5, {}, digest)
    with pytest.raises(InvalidInputError, match=r"summary|JSON"):
        store.create_report("m", 1, True, 0.5, {"x": float("nan")}, digest)
    with pytest.raises(NotFoundError):
        store.create_report("m", 1, True, 0.5, {}, digest, monitor_id=uuid.uuid4().hex)
    with pytest.raises(InvalidInputError):
        store.list_reports(page_token="garbage!")
