"""A read-only object tree over stored experiments and runs.

::

    exp = sy.Experiment("mnist")
    for run in exp.runs:                  # fetched lazily, page by page
        print(run.name, run.metrics["acc"], run.params["lr"])
    run = exp["3f2a9c"]                   # a run of this experiment, by id or prefix
    run.history("loss"); run.artifacts; run.read_bytes("model/model.skops")
    run.parent, run.children

Objects hold what was read when they were made; ``refresh()`` reads again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from shipyard import entities
from shipyard.entities import ArtifactEntry, LifecycleStage, Metric, RunStatus, ViewType
from shipyard.errors import NotFoundError
from shipyard.tracking import artifacts
from shipyard.tracking.client import Client

__all__ = ["Experiment", "Run", "to_datetime"]

_PAGE_SIZE = 200  # iterating starts after one small page, not after the whole listing


def to_datetime(ms: int | None) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _default_client() -> Client:
    from shipyard.tracking.fluent import default_client

    return default_client()


class Run:
    """A stored run: ``sy.Run("<run id or unique prefix>")``."""

    def __init__(self, run_id: str, *, client: Client | None = None) -> None:
        self._client = client or _default_client()
        self._record = self._client.get_run(run_id)

    @classmethod
    def _of(cls, record: entities.Run, client: Client) -> Run:
        view = cls.__new__(cls)
        view._client = client
        view._record = record
        return view

    def refresh(self) -> Run:
        return Run._of(self._client.store.get_run(self.id), self._client)

    @property
    def record(self) -> entities.Run:
        """The underlying :class:`shipyard.entities.Run` record."""
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def experiment_id(self) -> str:
        return self._record.experiment_id

    @property
    def status(self) -> RunStatus:
        return self._record.status

    @property
    def user(self) -> str | None:
        return self._record.user

    @property
    def start_time(self) -> dt.datetime:
        start = to_datetime(self._record.start_time)
        assert start is not None
        return start

    @property
    def end_time(self) -> dt.datetime | None:
        return to_datetime(self._record.end_time)

    @property
    def deleted(self) -> bool:
        return self._record.lifecycle_stage is LifecycleStage.DELETED

    @property
    def params(self) -> dict[str, str]:
        return dict(self._record.params)

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of each metric."""
        return {key: metric.value for key, metric in self._record.metrics.items()}

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def artifacts(self) -> list[ArtifactEntry]:
        return self._client.store.list_artifacts(self.id)

    def read_bytes(self, path: str) -> bytes:
        """One artifact file's bytes, verified against its digest."""
        entry = self._client.store.get_artifact(self.id, path)
        return artifacts.read_artifact(self._client.blob_store, entry)

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def download(self, path: str | None = None, dest: str | Path | None = None) -> Path:
        return self._client.download_artifacts(self.id, path, dest)

    def history(self, key: str, max_points: int | None = None) -> list[Metric]:
        """Every point of one metric by step (downsampled to ``max_points`` if given)."""
        return self._client.store.get_metric_history(self.id, key, max_points)

    @property
    def experiment(self) -> Experiment:
        return Experiment._of(self._client.store.get_experiment(self.experiment_id), self._client)

    @property
    def parent(self) -> Run | None:
        parent_id = self._record.parent_run_id
        if parent_id is None:
            return None
        return Run._of(self._client.store.get_run(parent_id), self._client)

    @property
    def children(self) -> list[Run]:
        """The runs started with this run as their parent, oldest first."""
        found = self._client.iter_runs(
            filter_string=f"attributes.parent_run_id = '{self.id}'",
            order_by=["attributes.start_time ASC"],
            view=ViewType.ALL,
        )
        return [Run._of(record, self._client) for record in found]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Run {self.name} id={self.id} status={self.status}>"


class Experiment:
    """A stored experiment: ``sy.Experiment("<name or id>")``."""

    def __init__(self, name: str, *, client: Client | None = None) -> None:
        self._client = client or _default_client()
        self._record = self._client.get_experiment(name)

    @classmethod
    def _of(cls, record: entities.Experiment, client: Client) -> Experiment:
        view = cls.__new__(cls)
        view._client = client
        view._record = record
        return view

    @classmethod
    def all(
        cls, *, view: ViewType = ViewType.ACTIVE, client: Client | None = None
    ) -> list[Experiment]:
        """Every experiment, ordered by name."""
        client = client or _default_client()
        return [cls._of(record, client) for record in client.iter_experiments(view)]

    def refresh(self) -> Experiment:
        return Experiment._of(self._client.store.get_experiment(self.id), self._client)

    @property
    def record(self) -> entities.Experiment:
        return self._record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._record.tags)

    @property
    def deleted(self) -> bool:
        return self._record.lifecycle_stage is LifecycleStage.DELETED

    @property
    def created_at(self) -> dt.datetime:
        created = to_datetime(self._record.created_at)
        assert created is not None
        return created

    @property
    def runs(self) -> Iterator[Run]:
        """Active runs, newest first, read one page at a time as you iterate."""
        return self.search()

    def search(
        self,
        filter: str | None = None,
        order_by: list[str] | None = None,
        view: ViewType = ViewType.ACTIVE,
        limit: int | None = None,
    ) -> Iterator[Run]:
        found = self._client.iter_runs(
            [self.id], filter, order_by, view, limit, page_size=_PAGE_SIZE
        )
        for record in found:
            yield Run._of(record, self._client)

    def __iter__(self) -> Iterator[Run]:
        return self.search()

    def __getitem__(self, run_id: str) -> Run:
        record = self._client.get_run(run_id)
        if record.experiment_id != self.id:
            raise NotFoundError(f"run {run_id} is not in experiment {self.name!r}")
        return Run._of(record, self._client)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Experiment {self.name!r} id={self.id}>"
