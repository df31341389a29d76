"""The experiments list and the runs table.

The runs table asks the store for one page, sorted and filtered in SQL, so it
costs the same with ten runs or a hundred thousand.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from shipyard.entities import Experiment, Page, Run, RunKeys, ViewType
from shipyard.errors import FilterSyntaxError, InvalidInputError, ShipyardError
from shipyard.server.deps import StoreDep
from shipyard.server.ui.rendering import PageRoute, render
from shipyard.server.ui.runs_view import RunsView, available_columns, default_columns
from shipyard.store.base import Store

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = logging.getLogger(__name__)

EXPERIMENTS_PAGE_SIZE = 100

# Built-in columns of the runs table: (label, order-by field or None, numeric).
BUILTIN_COLUMNS = [
    ("Run", "attributes.run_name", False),
    ("Status", "attributes.status", False),
    ("Started (UTC)", "attributes.start_time", True),
    ("Duration", None, True),
    ("User", "attributes.user", False),
]


@router.get("/", summary="Experiments")
def experiments_page(
    request: Request,
    store: StoreDep,
    page_token: Annotated[str | None, Query()] = None,
    prev: Annotated[list[str] | None, Query()] = None,
    view: Annotated[str | None, Query()] = None,
) -> Response:
    earlier = prev or []
    show_deleted = view == "all"
    page: Page[Experiment] = store.list_experiments(
        ViewType.ALL if show_deleted else ViewType.ACTIVE,
        max_results=EXPERIMENTS_PAGE_SIZE,
        page_token=page_token or None,
    )
    base = {"view": "all" if show_deleted else None}
    next_link = (
        {**base, "page_token": page.next_page_token, "prev": [*earlier, page_token or ""]}
        if page.next_page_token
        else None
    )
    prev_link = None
    if page_token:
        prev_link = {**base, "page_token": earlier[-1] if earlier else None, "prev": earlier[:-1]}
    return render(
        request,
        "experiments.html",
        experiments=page.items,
        next_link=next_link,
        prev_link=prev_link,
        page_number=len(earlier) + 1 if page_token else 1,
        show_deleted=show_deleted,
    )


def _experiments(store: Store, ids: tuple[str, ...]) -> list[Experiment]:
    return [store.get_experiment(experiment_id) for experiment_id in ids]


def _experiment_names(store: Store, runs: list[Run], known: list[Experiment]) -> dict[str, str]:
    names = {experiment.id: experiment.name for experiment in known}
    for run in runs:
        if run.experiment_id not in names:
            names[run.experiment_id] = store.get_experiment(run.experiment_id).name
    return names


def _run_keys(store: Store, experiment_ids: tuple[str, ...]) -> RunKeys | None:
    """Every key of the experiments shown, for the column picker; None if the store failed
    (the picker then offers the keys of the page alone)."""
    try:
        return store.list_run_keys(list(experiment_ids))
    except ShipyardError:
        log.warning("could not list the run keys of %s", experiment_ids or "all", exc_info=True)
        return None


@router.get("/runs", summary="Runs table")
def runs_page(request: Request, store: StoreDep) -> Response:
    view = RunsView.from_query(request.query_params)
    experiments = _experiments(store, view.experiment_ids)
    error: FilterSyntaxError | InvalidInputError | None = None
    page: Page[Run] = Page([])
    try:
        page = store.search_runs(
            list(view.experiment_ids),
            filter_string=view.filter or None,
            order_by=[view.order] if view.order else None,
            view=view.view,
            max_results=view.page_size,
            page_token=view.page_token,
        )
    except InvalidInputError as exc:  # a bad filter or a stale page token: shown inline
        error = exc
    columns = list(view.columns) if view.columns is not None else default_columns(page.items)
    selected_here = {run.id for run in page.items} & set(view.selected)
    return render(
        request,
        "runs.html",
        status_code=400 if error else 200,
        view=view,
        experiments=experiments,
        runs=page.items,
        experiment_names=_experiment_names(store, page.items, experiments),
        columns=columns,
        choices=available_columns(page.items, columns, _run_keys(store, view.experiment_ids)),
        builtin_columns=BUILTIN_COLUMNS,
        next_token=page.next_page_token,
        error=error,
        error_position=error.position if isinstance(error, FilterSyntaxError) else None,
        selected_elsewhere=[run_id for run_id in view.selected if run_id not in selected_here],
        several_experiments=len(view.experiment_ids) != 1,
    )
