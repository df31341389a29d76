/* Shipyard web UI: small enhancements over server-rendered pages.
 *
 * Every page works without this file. With it: metric charts (uPlot) with zoom,
 * smoothing and a choice of x axis; the runs table's selection kept in the URL;
 * the caret put where a filter failed to parse. State that a person changes here
 * is written back to the query string, so the address bar stays shareable.
 */
(function () {
  "use strict";

  const charts = [];
  window.shipyardCharts = charts; // read by the browser tests

  function setQuery(changes) {
    const params = new URLSearchParams(window.location.search);
    for (const [name, value] of Object.entries(changes)) {
      params.delete(name);
      const values = Array.isArray(value) ? value : [value];
      for (const item of values) {
        if (item !== null && item !== undefined && item !== "") params.append(name, item);
      }
    }
    const search = params.toString();
    const url = window.location.pathname + (search ? "?" + search : "") + window.location.hash;
    window.history.replaceState(null, "", url);
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function jsonAttr(element, name) {
    return JSON.parse(element.getAttribute(name) || "null");
  }

  /* -- filter errors: put the caret where parsing failed ------------------ */
  function focusFilterError() {
    const input = document.querySelector("#filter[aria-invalid='true']");
    if (!input) return;
    input.focus();
    const position = parseInt(input.dataset.errorPosition, 10);
    if (!Number.isNaN(position)) input.setSelectionRange(position, Math.min(position + 1, input.value.length));
  }

  /* -- runs table: selection for comparison, kept in the URL --------------- */
  function initSelection() {
    const table = document.getElementById("runs-table");
    const form = document.getElementById("compare-form");
    if (!table || !form) return;
    const boxes = Array.from(table.querySelectorAll("input[type=checkbox][name=runs]"));
    const count = document.getElementById("selected-count");
    const elsewhere = Array.from(form.querySelectorAll("input[data-elsewhere]")).map((i) => i.value);

    function selected() {
      return elsewhere.concat(boxes.filter((b) => b.checked).map((b) => b.value));
    }

    function carry(ids) {
      // Links to other pages and sorts of this table keep the selection.
      for (const link of document.querySelectorAll("#runs-table thead a.sort, .pager a")) {
        const url = new URL(link.href, window.location.href);
        url.searchParams.delete("sel");
        for (const id of ids) url.searchParams.append("sel", id);
        link.href = url.pathname + url.search;
      }
      for (const other of document.querySelectorAll(".filter-form, .columns-form")) {
        for (const input of other.querySelectorAll("input[name=sel]")) input.remove();
        for (const id of ids) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = "sel";
          input.value = id;
          other.appendChild(input);
        }
      }
    }

    function update() {
      const ids = selected();
      if (count) count.textContent = String(ids.length);
      setQuery({ sel: ids });
      carry(ids);
    }

    for (const box of boxes) box.addEventListener("change", update);
    form.addEventListener("submit", (event) => {
      if (selected().length === 0) event.preventDefault();
    });
  }

  /* -- metric charts -------------------------------------------------------- */
  function smooth(values, weight) {
    if (!weight) return values;
    let last = 0;
    let n = 0;
    return values.map((value) => {
      if (value === null || !Number.isFinite(value)) return null;
      n += 1;
      last = last * weight + (1 - weight) * value;
      return last / (1 - Math.pow(weight, n)); // debiased, so the start is not pulled to 0
    });
  }

  function xValues(series, axis) {
    if (axis === "step") return series.step;
    if (axis === "wall") return series.time.map((t) => t / 1000);
    const start = series.time.length ? Math.min.apply(null, series.time) : 0;
    return series.time.map((t) => (t - start) / 1000);
  }

  function sortedPairs(xs, ys) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    return [order.map((i) => xs[i]), order.map((i) => ys[i])];
  }

  function alpha(color, value) {
    return color + Math.round(value * 255).toString(16).padStart(2, "0");
  }

  function axesStyle(xLabel) {
    const stroke = cssVar("--muted");
    const grid = { stroke: cssVar("--border"), width: 1 };
    return [
      { stroke, grid, ticks: grid, label: xLabel, labelSize: 22, font: "11px system-ui", labelFont: "11px system-ui" },
      { stroke, grid, ticks: grid, font: "11px system-ui", size: 56 },
    ];
  }

  const AXIS_LABELS = { step: "step", relative: "seconds since the first point", wall: "" };

  function buildLineChart(element, lines, axis, weight) {
    // lines: [{label, color, series}] where series has step/time/value arrays.
    const tables = [];
    const uSeries = [{ label: axis === "step" ? "step" : "time" }];
    for (const line of lines) {
      const [xs, ys] = sortedPairs(xValues(line.series, axis), line.series.value);
      if (weight > 0) {
        if (lines.length === 1) {
          tables.push([xs, ys]);
          uSeries.push({ label: "raw", stroke: alpha(line.color, 0.28), width: 1, spanGaps: true });
        }
        tables.push([xs, smooth(ys, weight)]);
        uSeries.push({ label: line.label, stroke: line.color, width: 2, spanGaps: true });
      } else {
        tables.push([xs, ys]);
        uSeries.push({ label: line.label, stroke: line.color, width: 1.6, spanGaps: true });
      }
    }
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const few = data[0].length < 40;
    for (const s of uSeries.slice(1)) s.points = { show: few, size: 5 };
    const options = {
      width: Math.max(element.clientWidth, 240),
      height: 230,
      series: uSeries,
      scales: { x: { time: axis === "wall" } },
      axes: axesStyle(AXIS_LABELS[axis]),
      cursor: { sync: { key: "shipyard-metrics" }, drag: { x: true, y: false } },
      legend: { live: true },
    };
    element.textContent = "";
    return new uPlot(options, data, element);
  }

  function formatValue(value) {
    if (value === null) return "NaN";
    return Number.isInteger(value) ? String(value) : value.toPrecision(5).replace(/\.?0+$/, "");
  }

  function message(element, text) {
    element.innerHTML = "";
    const p = document.createElement("p");
    p.className = "chart-message";
    p.textContent = text;
    element.appendChild(p);
  }

  function initMetricCharts(container) {
    const runs = jsonAttr(container, "data-runs") || [];
    const keys = jsonAttr(container, "data-keys") || [];
    const names = jsonAttr(container, "data-names") || runs;
    const colors = jsonAttr(container, "data-colors") || [cssVar("--accent") || "#2459c9"];
    const state = { x: container.dataset.x || "step", smooth: parseFloat(container.dataset.smooth) || 0 };
    const cards = Array.from(container.querySelectorAll(".chart-card"));
    if (!runs.length || !keys.length || typeof uPlot === "undefined") return;
    for (const card of cards) message(card.querySelector(".chart"), "Loading…");

    const maxPoints = Math.min(2000, Math.max(200, Math.round(container.clientWidth)));
    const params = new URLSearchParams();
    for (const run of runs) params.append("run", run);
    for (const key of keys) params.append("key", key);
    params.set("max_points", String(maxPoints));

    let histories = null;
    let mine = [];
    function draw() {
      for (const plot of mine) {
        charts.splice(charts.indexOf(plot), 1);
        plot.destroy();
      }
      mine = [];
      for (const card of cards) {
        const element = card.querySelector(".chart");
        const key = card.dataset.key;
        const lines = [];
        runs.forEach((run, index) => {
          const series = histories.find((s) => s.run === run && s.key === key);
          if (series && series.value.length) {
            lines.push({ label: runs.length === 1 ? key : names[index], color: colors[index % colors.length], series });
          }
        });
        if (!lines.length) {
          message(element, "No points.");
          continue;
        }
        if (lines.every((line) => line.series.value.length === 1)) {
          const only = lines[0].series;
          message(element, lines.length === 1
            ? "One value: " + formatValue(only.value[0]) + " (step " + only.step[0] + ")"
            : "One value per run: see the table above.");
          continue;
        }
        const plot = buildLineChart(element, lines, state.x, state.smooth);
        plot.shipyardKey = key;
        mine.push(plot);
        charts.push(plot);
      }
    }

    fetch("/ui/api/metrics?" + params.toString(), { headers: { Accept: "application/json" } })
      .then((response) => {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then((body) => {
        histories = body.series;
        draw();
        document.documentElement.dataset.chartsReady = "true";
      })
      .catch((error) => {
        for (const card of cards) message(card.querySelector(".chart"), "Could not load the history (" + error.message + ").");
      });

    const controls = container.previousElementSibling && container.previousElementSibling.matches(".chart-controls")
      ? container.previousElementSibling
      : document.querySelector(".chart-controls");
    if (controls) {
      const select = controls.querySelector(".chart-x");
      const range = controls.querySelector(".chart-smooth");
      const output = controls.querySelector(".chart-smooth-value");
      if (select) {
        select.addEventListener("change", () => {
          state.x = select.value;
          setQuery({ x: state.x === "step" ? null : state.x });
          if (histories) draw();
        });
      }
      if (range) {
        range.addEventListener("input", () => {
          state.smooth = parseFloat(range.value) || 0;
          if (output) output.textContent = state.smooth.toFixed(2);
          setQuery({ smooth: state.smooth ? range.value : null });
          if (histories) draw();
        });
      }
    }

    let pending = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(pending);
      pending = window.setTimeout(() => {
        for (const plot of mine) plot.setSize({ width: Math.max(plot.root.parentElement.clientWidth, 240), height: 230 });
      }, 120);
    });
  }

  /* -- compare: one param against one metric -------------------------------- */
  function initScatter() {
    const element = document.getElementById("scatter-chart");
    const source = document.getElementById("scatter-data");
    if (!element || !source || typeof uPlot === "undefined") return;
    const scatter = JSON.parse(source.textContent);
    const points = scatter.points;
    if (!points.length) {
      message(element, "No run has both " + scatter.param + " and " + scatter.metric + ".");
      return;
    }
    const categories = scatter.categories;
    const xs = points.map((p) => p.x);
    const positive = xs.every((x) => x > 0);
    const logScale = !categories.length && positive && Math.max.apply(null, xs) / Math.min.apply(null, xs) >= 50;
    const tables = points.map((p) => [[p.x], [p.y]]);
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    const series = [{}].concat(
      points.map((p) => ({ label: p.name, stroke: p.color, fill: p.color, paths: () => null, points: { show: true, size: 11, fill: p.color } }))
    );
    const axes = axesStyle(scatter.param);
    axes[1].label = scatter.metric;
    axes[1].labelSize = 22;
    axes[1].labelFont = "11px system-ui";
    const xScale = { time: false };
    const low = Math.min.apply(null, xs);
    const high = Math.max.apply(null, xs);
    if (categories.length) {
      xScale.range = () => [-0.5, categories.length - 0.5];
      axes[0].splits = () => categories.map((_, i) => i);
      axes[0].values = (u, splits) => splits.map((i) => categories[i] === undefined ? "" : categories[i]);
    } else if (logScale) {
      xScale.distr = 3;
      xScale.log = 10;
      xScale.range = () => [low / 1.6, high * 1.6];
    } else {
      const pad = (high - low) * 0.06 || Math.abs(high) * 0.1 || 1;
      xScale.range = () => [low - pad, high + pad];
    }
    series[0].label = scatter.param;
    const options = {
      width: Math.max(element.clientWidth, 240),
      height: 320,
      series,
      scales: { x: xScale, y: { auto: true } },
      axes,
      legend: { show: points.length <= 12 },
      cursor: { drag: { x: true, y: true, uni: 20 } },
    };
    element.textContent = "";
    const plot = new uPlot(options, data, element);
    plot.shipyardKey = "scatter";
    charts.push(plot);
  }

  function init() {
    focusFilterError();
    initSelection();
    for (const container of document.querySelectorAll("#run-charts, #compare-charts")) initMetricCharts(container);
    initScatter();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
