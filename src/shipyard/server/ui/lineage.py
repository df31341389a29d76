"""Lineage as a graph: dataset versions → runs → model versions → aliases.

:func:`lineage_graph` reads the graph of some model versions from the store;
the layout is computed here and drawn by the ``lineage_svg`` macro as inline
SVG, so the graph needs no JavaScript: each node is a link to its page, and
each column is ordered to follow the one before it, which keeps edges from
crossing in the usual case (one run per version, a few datasets per run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shipyard.entities import ModelVersion, Run
from shipyard.errors import NotFoundError
from shipyard.server.ui.model_data import Package
from shipyard.store.base import Store

__all__ = [
    "COLUMNS",
    "Edge",
    "Graph",
    "LaidOutGraph",
    "Node",
    "PlacedNode",
    "layout",
    "lineage_graph",
]

# Column index -> heading.
COLUMNS = ("Data", "Run", "Model version", "Alias")
DATA, RUN, VERSION, ALIAS = range(4)

NODE_WIDTH = 184
NODE_HEIGHT = 44
COLUMN_GAP = 64
ROW_GAP = 14
TOP = 34  # room for the column headings
MARGIN = 4
MAX_LABEL_CHARS = 24
MAX_SUBLABEL_CHARS = 30


@dataclass(frozen=True, slots=True)
class Node:
    key: str  # unique within the graph, e.g. "run:<id>"
    column: int
    label: str
    sublabel: str = ""
    href: str | None = None
    kind: str = ""  # CSS class suffix: dataset, run, version, alias, missing


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str


@dataclass
class Graph:
    """Nodes in insertion order; adding a node or an edge twice keeps the first."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str], Edge] = field(default_factory=dict)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def link(self, source: str, target: str) -> None:
        self.edges.setdefault((source, target), Edge(source, target))


@dataclass(frozen=True, slots=True)
class PlacedNode:
    node: Node
    x: int
    y: int
    label: str  # shortened to fit; the full text is in ``title``
    sublabel: str
    title: str

    @property
    def centre_y(self) -> int:
        return self.y + NODE_HEIGHT // 2


@dataclass(frozen=True, slots=True)
class LaidOutGraph:
    width: int
    height: int
    nodes: list[PlacedNode]
    paths: list[str]  # SVG path data, one per edge
    headings: list[tuple[int, str]]  # (x of the column's centre, heading)
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT

    def __bool__(self) -> bool:
        return bool(self.nodes)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _order(graph: Graph) -> list[list[Node]]:
    """Each column's nodes, ordered by the mean position of their neighbours to the right.

    Versions come in the order given (newest first); runs follow their versions,
    datasets their runs, and aliases their versions.
    """
    columns: list[list[Node]] = [[] for _ in COLUMNS]
    for node in graph.nodes.values():
        columns[node.column].append(node)
    rank = {node.key: index for index, node in enumerate(columns[VERSION])}

    def follow(column: int, neighbours: Iterable[tuple[str, str]]) -> None:
        known: dict[str, list[int]] = {}
        for mine, theirs in neighbours:
            if theirs in rank:
                known.setdefault(mine, []).append(rank[theirs])
        order = {node.key: index for index, node in enumerate(columns[column])}

        def position(node: Node) -> tuple[float, int]:
            seen = known.get(node.key)
            return (sum(seen) / len(seen) if seen else float("inf"), order[node.key])

        columns[column].sort(key=position)
        for index, node in enumerate(columns[column]):
            rank[node.key] = index

    edges = list(graph.edges.values())
    follow(RUN, ((e.source, e.target) for e in edges))
    follow(DATA, ((e.source, e.target) for e in edges))
    follow(ALIAS, ((e.target, e.source) for e in edges))
    return columns


def layout(graph: Graph) -> LaidOutGraph:
    """Positions for every node and a curve for every edge whose ends are both drawn."""
    columns = _order(graph)
    used = [index for index, nodes in enumerate(columns) if nodes]
    rows = max((len(nodes) for nodes in columns), default=0)
    content_height = rows * NODE_HEIGHT + max(rows - 1, 0) * ROW_GAP
    placed: dict[str, PlacedNode] = {}
    headings: list[tuple[int, str]] = []
    for slot, column in enumerate(used):
        x = MARGIN + slot * (NODE_WIDTH + COLUMN_GAP)
        headings.append((x + NODE_WIDTH // 2, COLUMNS[column]))
        nodes = columns[column]
        height = len(nodes) * NODE_HEIGHT + (len(nodes) - 1) * ROW_GAP
        top = TOP + (content_height - height) // 2  # a short column sits in the middle
        for row, node in enumerate(nodes):
            title = f"{node.label} ({node.sublabel})" if node.sublabel else node.label
            placed[node.key] = PlacedNode(
                node,
                x,
                top + row * (NODE_HEIGHT + ROW_GAP),
                _shorten(node.label, MAX_LABEL_CHARS),
                _shorten(node.sublabel, MAX_SUBLABEL_CHARS),
                title,
            )
    paths = []
    for edge in graph.edges.values():
        source, target = placed.get(edge.source), placed.get(edge.target)
        if source is None or target is None:
            continue
        x1, y1 = source.x + NODE_WIDTH, source.centre_y
        x2, y2 = target.x, target.centre_y
        bend = (x2 - x1) // 2
        paths.append(f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}")
    width = 2 * MARGIN + len(used) * NODE_WIDTH + max(len(used) - 1, 0) * COLUMN_GAP
    return LaidOutGraph(
        width=width,
        height=TOP + content_height + MARGIN,
        nodes=list(placed.values()),
        paths=paths,
        headings=headings,
    )


# -- the graph of a model's versions -----------------------------------------------


def _run_node(run_id: str, run: Run | None) -> Node:
    if run is None:
        return Node(f"run:{run_id}", RUN, f"run {run_id[:8]}", "not found", None, "missing")
    return Node(
        f"run:{run_id}", RUN, run.name, f"run · {run.status.lower()}", f"/runs/{run.id}", "run"
    )


def lineage_graph(
    store: Store,
    versions: Sequence[ModelVersion],
    aliases: dict[str, int],
    packages: dict[int, Package | None] | None = None,
) -> Graph:
    """Dataset versions → run → model version → aliases for ``versions`` (newest first).

    Datasets come from the run's recorded inputs and from the package manifest
    (when given in ``packages``), so a model logged outside a run still shows
    its data.
    """
    graph = Graph()
    by_version: dict[int, list[str]] = {}
    for alias, number in sorted(aliases.items()):
        by_version.setdefault(number, []).append(alias)
    runs: dict[str, Run | None] = {}
    for version in versions:
        key = graph.add(
            Node(
                f"version:{version.version}",
                VERSION,
                f"{version.name} v{version.version}",
                " · ".join(part for part in (version.status.lower(), version.flavor) if part),
                f"/models/{version.name}/{version.version}",
                "version",
            )
        )
        for alias in by_version.get(version.version, []):
            target = graph.add(
                Node(
                    f"alias:{alias}",
                    ALIAS,
                    f"@{alias}",
                    "alias",
                    f"/models/{version.name}/{alias}",
                    "alias",
                )
            )
            graph.link(key, target)
        datasets: list[tuple[str, int]] = []
        package = (packages or {}).get(version.version)
        if package is not None:
            datasets.extend(package.datasets)
        source = key
        if version.run_id:
            if version.run_id not in runs:
                try:
                    runs[version.run_id] = store.get_run(version.run_id)
                except NotFoundError:
                    runs[version.run_id] = None
            source = graph.add(_run_node(version.run_id, runs[version.run_id]))
            graph.link(source, key)
            if runs[version.run_id] is not None:
                datasets.extend(
                    (i.dataset, i.version) for i in store.get_run_inputs(version.run_id)
                )
        for dataset, number in dict.fromkeys(datasets):
            node = graph.add(
                Node(
                    f"data:{dataset}/{number}",
                    DATA,
                    f"{dataset} v{number}",
                    "dataset version",
                    f"/datasets/{dataset}/{number}",
                    "dataset",
                )
            )
            graph.link(node, source)
    return graph
