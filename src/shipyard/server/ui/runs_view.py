"""The runs table's state, read from and written back to the query string.

Everything a person sets on the table (experiments, filter, sort, columns,
page, selection) lives in the URL, so any view can be shared as a link::

    /runs?experiment=<id>&filter=metrics.acc > 0.9&order=metrics.acc DESC
         &col=&col=metrics.acc&col=params.lr&sel=<run id>&page_token=...&prev=

``col`` given at all (even empty) means the columns were chosen; otherwise the
table picks some from the runs it shows. ``prev`` holds the tokens of the
earlier pages (empty for the first), so "Previous" needs no server state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from shipyard.entities import Run, RunKeys, ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.filter_language import Entity, parse_order_by
from shipyard.validation import validate_key

__all__ = ["Column", "RunsView", "available_columns", "default_columns", "parse_column"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_COLUMNS = 40
MAX_SELECTED = 50
DEFAULT_METRIC_COLUMNS = 6
DEFAULT_PARAM_COLUMNS = 6

_ENTITIES = {"metrics": Entity.METRIC, "params": Entity.PARAM, "tags": Entity.TAG}


@dataclass(frozen=True, slots=True)
class Column:
    """A param, metric or tag column of the runs table."""

    entity: Entity
    key: str

    @property
    def spec(self) -> str:
        return f"{self.entity.value}.{self.key}"

    @property
    def kind(self) -> str:
        return {Entity.METRIC: "metric", Entity.PARAM: "param"}.get(self.entity, "tag")

    def cell(self, run: Run) -> str | float | None:
        if self.entity is Entity.METRIC:
            point = run.metrics.get(self.key)
            return None if point is None else point.value
        source = run.params if self.entity is Entity.PARAM else run.tags
        return source.get(self.key)


def parse_column(spec: str) -> Column:
    entity_name, dot, key = spec.strip().partition(".")
    entity = _ENTITIES.get(entity_name.lower())
    if not dot or entity is None:
        raise InvalidInputError(
            f"column {spec!r} must look like metrics.<key>, params.<key> or tags.<key>"
        )
    return Column(entity, validate_key(key, "column key"))


def default_columns(runs: Sequence[Run]) -> list[Column]:
    """Columns for a table nobody configured: the most common keys among ``runs``."""
    return _popular(runs, Entity.METRIC, DEFAULT_METRIC_COLUMNS) + _popular(
        runs, Entity.PARAM, DEFAULT_PARAM_COLUMNS
    )


def _popular(runs: Sequence[Run], entity: Entity, limit: int) -> list[Column]:
    counts: dict[str, int] = {}
    for run in runs:
        for key in run.metrics if entity is Entity.METRIC else run.params:
            counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts, key=lambda key: (-counts[key], key))[:limit]
    return [Column(entity, key) for key in sorted(keys)]


def available_columns(
    runs: Iterable[Run], chosen: Sequence[Column], keys: RunKeys | None = None
) -> list[Column]:
    """The metric and param keys of ``keys`` (every key of the experiments shown) and of
    ``runs`` (the page: the only source when ``keys`` is None), plus the chosen columns,
    metrics first."""
    found = {Column(Entity.METRIC, k) for run in runs for k in run.metrics}
    found |= {Column(Entity.PARAM, k) for run in runs for k in run.params}
    if keys is not None:
        found |= {Column(Entity.METRIC, k) for k in keys.metrics}
        found |= {Column(Entity.PARAM, k) for k in keys.params}
    found |= set(chosen)
    order = {Entity.METRIC: 0, Entity.PARAM: 1, Entity.TAG: 2, Entity.ATTRIBUTE: 3}
    return sorted(found, key=lambda c: (order[c.entity], c.key))


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise InvalidInputError(f"page_size must be a whole number, got {raw!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def _view(raw: str | None) -> ViewType:
    try:
        return ViewType((raw or "active").lower())
    except ValueError:
        raise InvalidInputError(f"view must be active, deleted or all, got {raw!r}") from None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


@dataclass(frozen=True, slots=True)
class RunsView:
    experiment_ids: tuple[str, ...] = ()
    filter: str = ""
    order: str | None = None
    columns: tuple[Column, ...] | None = None  # None: not chosen, pick from the runs shown
    page_token: str | None = None
    prev: tuple[str, ...] = ()
    page_size: int = DEFAULT_PAGE_SIZE
    selected: tuple[str, ...] = ()
    view: ViewType = ViewType.ACTIVE

    @classmethod
    def from_query(cls, query: QueryParams) -> RunsView:
        order = (query.get("order") or "").strip() or None
        if order is not None:
            parse_order_by(order)  # refuse a bad sort before searching
        columns: tuple[Column, ...] | None = None
        if "col" in query:
            specs = _unique(spec.strip() for spec in query.getlist("col"))
            if len(specs) > MAX_COLUMNS:
                raise InvalidInputError(f"at most {MAX_COLUMNS} columns, got {len(specs)}")
            columns = tuple(parse_column(spec) for spec in specs)
        selected = _unique(query.getlist("sel"))
        if len(selected) > MAX_SELECTED:
            raise InvalidInputError(f"select at most {MAX_SELECTED} runs, got {len(selected)}")
        return cls(
            experiment_ids=_unique(query.getlist("experiment")),
            filter=query.get("filter") or "",
            order=order,
            columns=columns,
            page_token=query.get("page_token") or None,
            prev=tuple(query.getlist("prev")),
            page_size=_page_size(query.get("page_size")),
            selected=selected,
            view=_view(query.get("view")),
        )

    @property
    def page_number(self) -> int:
        return len(self.prev) + 1

    def params(self, **changes: Any) -> dict[str, str | Sequence[str] | None]:
        """Query parameters of this view with ``changes`` applied (for links and forms)."""
        view = dataclasses.replace(self, **changes) if changes else self
        return {
            "experiment": list(view.experiment_ids),
            "filter": view.filter or None,
            "order": view.order,
            "col": None if view.columns is None else ["", *(c.spec for c in view.columns)],
            "page_size": None if view.page_size == DEFAULT_PAGE_SIZE else str(view.page_size),
            "view": None if view.view is ViewType.ACTIVE else view.view.value,
            "sel": list(view.selected),
            "page_token": view.page_token,
            "prev": list(view.prev) if view.page_token else [],
        }

    def first_page(self, **changes: Any) -> dict[str, str | Sequence[str] | None]:
        return self.params(page_token=None, prev=(), **changes)

    def next_page(self, token: str) -> dict[str, str | Sequence[str] | None]:
        return self.params(page_token=token, prev=(*self.prev, self.page_token or ""))

    def previous_page(self) -> dict[str, str | Sequence[str] | None]:
        if not self.prev:
            return self.params()
        return self.params(page_token=self.prev[-1] or None, prev=self.prev[:-1])

    def sort_params(self, column_spec: str, numeric: bool) -> dict[str, str | Sequence[str] | None]:
        """The view sorted by ``column_spec``: flips the direction when already sorted by it."""
        current = self.sort_state(column_spec)
        if current == "descending":
            order = f"{column_spec} ASC"
        elif current == "ascending":
            order = f"{column_spec} DESC"
        else:
            order = f"{column_spec} DESC" if numeric else f"{column_spec} ASC"
        return self.first_page(order=order)

    def sort_state(self, column_spec: str) -> str | None:
        """``ascending``/``descending`` when the table is sorted by this column (aria-sort)."""
        if self.order is None:
            return "descending" if column_spec == "attributes.start_time" else None
        parsed = parse_order_by(self.order)
        if f"{parsed.entity.value}.{parsed.key}" != column_spec:
            return None
        return "ascending" if parsed.ascending else "descending"

    def hidden_fields(self, *exclude: str) -> list[tuple[str, str]]:
        """(name, value) pairs that carry the rest of the view through a GET form."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.first_page().items():
            if name in exclude or value is None:
                continue
            if isinstance(value, str):
                pairs.append((name, value))
            else:
                pairs.extend((name, item) for item in value)
        return pairs
