"""A drift report as one self-contained HTML page: inline CSS, inline SVG, no script,
nothing fetched. Opened from a disk, a mail or an air-gapped box, it looks the same."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.monitoring.drift_report import ColumnDrift, DriftReport, Histogram

__all__ = ["render"]

_WIDTH, _HEIGHT, _AXIS = 560, 150, 34
_REF, _CUR = "#7f8fa6", "#e1701a"
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:2rem 0 .6rem}
h3{font-size:1rem;margin:0 0 .4rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.3rem .55rem;border-bottom:1px solid #e3e6ec}
th{background:#f4f6f9;font-weight:600}td.n{text-align:right}
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:600}
.bad{background:#fde3dc;color:#a12a0b}.ok{background:#e0f2e6;color:#1d6b36}
.muted{color:#6b7280}.cols{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));
gap:1rem}.card{border:1px solid #e3e6ec;border-radius:.5rem;padding:.8rem 1rem}
.key{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin:0 .25rem 0 .8rem;
vertical-align:-1px}svg text{font-size:10px;fill:#4b5563}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _verdict(drifted: bool, yes: str = "drift", no: str = "no drift") -> str:
    return f'<span class="verdict {"bad" if drifted else "ok"}">{yes if drifted else no}</span>'


def _cell_labels(histogram: Histogram) -> list[str]:
    if histogram.labels is not None:
        return histogram.labels
    edges = histogram.edges or []
    return [f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(len(edges) - 1)]


def _svg(histogram: Histogram) -> str:
    """Grouped bars of each cell's share in the reference and the current table."""
    ref_total = max(sum(histogram.reference), 1)
    cur_total = max(sum(histogram.current), 1)
    ref = [c / ref_total for c in histogram.reference]
    cur = [c / cur_total for c in histogram.current]
    top = max([*ref, *cur, 1e-12])
    cells = len(ref)
    width = (_WIDTH - 10) / max(cells, 1)
    plot = _HEIGHT - _AXIS
    labels = _cell_labels(histogram)
    parts = [
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" role="img" '
        f'aria-label="reference vs current">',
        f'<line x1="5" y1="{plot}" x2="{_WIDTH - 5}" y2="{plot}" stroke="#c5cad3"/>',
    ]
    for i in range(cells):
        x = 5 + i * width
        bar = max(width * 0.4, 0.5)
        for j, (share, colour, side) in enumerate(
            ((ref[i], _REF, "reference"), (cur[i], _CUR, "current"))
        ):
            h = share / top * (plot - 6)
            tip = f"{labels[i]}: {side} {share:.1%}"
            parts.append(
                f'<rect x="{x + width * 0.1 + j * bar:.1f}" y="{plot - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{_e(tip)}</title></rect>"
            )
        if histogram.labels is not None and cells <= 21:
            text = labels[i] if len(labels[i]) <= 10 else labels[i][:9] + "…"
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{plot + 12}" text-anchor="end" '
                f'transform="rotate(-35 {x + width / 2:.1f} {plot + 12})">{_e(text)}</text>'
            )
    if histogram.edges:
        low, high = histogram.edges[0], histogram.edges[-1]
        parts.append(f'<text x="5" y="{plot + 14}">{_e(f"{low:.4g}")}</text>')
        parts.append(
            f'<text x="{_WIDTH - 5}" y="{plot + 14}" text-anchor="end">{_e(f"{high:.4g}")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _score(column: ColumnDrift) -> str:
    if column.method is None:
        return "—"
    if column.distance is not None:
        return f"{_num(column.distance)} (p {_num(column.p_value)})"
    return f"p {_num(column.p_value)}"


def _row(column: ColumnDrift) -> str:
    unusual = []
    if column.new_count:
        unusual.append(f"{column.new_count:,} new")
    if column.out_of_range_count:
        unusual.append(f"{column.out_of_range_count:,} out of range")
    verdict = _verdict(column.drifted) if column.method else '<span class="muted">not tested</span>'
    return (
        f"<tr><td>{_e(column.column)}</td><td>{_e(column.kind)}</td>"
        f"<td>{_e(column.method or '—')}</td><td class=n>{_score(column)}</td>"
        f"<td class=n>{_num(column.threshold)}</td><td>{verdict}</td>"
        f"<td class=n>{_share(column.reference_missing_share)} → "
        f"{_share(column.current_missing_share)}</td>"
        f"<td>{_e(', '.join(unusual) or '—')}</td></tr>"
    )


def _card(column: ColumnDrift) -> str:
    notes = []
    if column.new_categories:
        shown = ", ".join(column.new_categories[:8])
        notes.append(f"new: {shown}" + (" …" if len(column.new_categories) > 8 else ""))
    if column.sampled:
        notes.append("tested on a uniform sample of the rows")
    if column.note:
        notes.append(column.note)
    body = _svg(column.histogram) if column.histogram else '<p class="muted">no histogram</p>'
    note = f'<p class="muted">{_e("; ".join(notes))}</p>' if notes else ""
    status = _verdict(column.drifted) if column.method else ""
    return (
        f'<div class="card"><h3>{_e(column.column)} {status}</h3>'
        f'<div class="muted">{_e(column.kind)} · {_e(column.method or "not tested")} · '
        f"{_score(column)}</div>{body}{note}</div>"
    )


def _table(columns: list[ColumnDrift]) -> str:
    head = (
        "<tr><th>column</th><th>kind</th><th>method</th><th>score</th><th>threshold</th>"
        "<th>verdict</th><th>missing (ref → cur)</th><th>unseen values</th></tr>"
    )
    return f"<table>{head}{''.join(_row(c) for c in columns)}</table>"


def render(report: DriftReport, title: str) -> str:
    tested = len(report.tested_columns)
    summary = (
        f"<p>{_verdict(report.dataset_drift, 'dataset drift', 'no dataset drift')} "
        f"{len(report.drifted_columns)} of {tested} columns drifted "
        f"({report.drifted_share:.0%}; the dataset drifts at {report.drift_share:.0%}). "
        f'<span class="muted">Reference {report.reference_rows:,} rows, '
        f"current {report.current_rows:,} rows.</span></p>"
    )
    sections = [f"<h1>{_e(title)}</h1>", summary]
    if report.schema_violations:
        rows = "".join(
            f"<tr><td>{_e(v.column)}</td><td>{_e(v.problem.replace('_', ' '))}</td>"
            f"<td>{_e(v.reference_type or '—')}</td><td>{_e(v.current_type or '—')}</td></tr>"
            for v in report.schema_violations
        )
        sections.append(
            "<h2>Schema violations</h2><table><tr><th>column</th><th>problem</th>"
            f"<th>reference type</th><th>current type</th></tr>{rows}</table>"
        )
    if report.prediction:
        sections.append(
            f"<h2>Prediction {_verdict(report.prediction_drift)}</h2>{_table(report.prediction)}"
        )
    sections.append(f"<h2>Columns</h2>{_table(report.columns)}")
    legend = (
        f'<p class="muted">Share of rows per bin or category: '
        f'<span class="key" style="background:{_REF}"></span>reference'
        f'<span class="key" style="background:{_CUR}"></span>current</p>'
    )
    cards = [c for c in [*report.prediction, *report.columns] if c.histogram is not None]
    if cards:
        sections.append(
            f"<h2>Distributions</h2>{legend}<div class=cols>"
            f"{''.join(_card(c) for c in cards)}</div>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"{''.join(sections)}</body></html>\n"
    )
