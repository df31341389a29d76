/* Monitoring page charts: a model's drift and quality over time (uPlot).
 *
 * The page holds the numbers twice: as JSON for these charts and as tables under
 * them, so it reads the same without JavaScript. When the charts draw, the tables
 * fold away (one click opens them). A click on a point opens that report.
 */
(function () {
  "use strict";

  const charts = [];
  window.shipyardMonitoringCharts = charts; // read by the browser tests
  const OTHER_COLORS = ["#e0662f", "#22a06b", "#8a63d2", "#c9a100", "#1aa3b8", "#c43c9a"];
  const HEIGHT = 240;

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function decimal(value) {
    return value === null || value === undefined ? "—" : Number(value.toPrecision(4)).toString();
  }

  function axes(format) {
    const stroke = cssVar("--muted");
    const grid = { stroke: cssVar("--border"), width: 1 };
    return [
      { stroke, grid, ticks: grid, font: "11px system-ui" },
      { stroke, grid, ticks: grid, font: "11px system-ui", size: 52, values: (u, splits) => splits.map(format) },
    ];
  }

  function markers(label, color) {
    return { label, stroke: color, fill: color, paths: () => null, points: { show: true, size: 10, width: 2, stroke: color, fill: color } };
  }

  function openOnClick(plot, reports) {
    // A click (not the end of a zoom drag) on the chart opens the report under the cursor.
    let down = null;
    plot.over.addEventListener("mousedown", (event) => { down = [event.clientX, event.clientY]; });
    plot.over.addEventListener("click", (event) => {
      const moved = down ? Math.abs(event.clientX - down[0]) + Math.abs(event.clientY - down[1]) : 0;
      const index = plot.cursor.idx;
      if (moved < 4 && index !== null && index !== undefined && reports[index]) {
        window.location.href = "/monitoring/reports/" + reports[index];
      }
    });
    plot.over.style.cursor = "pointer";
  }

  function fold(id) {
    const details = document.getElementById(id);
    if (details) details.open = false;
  }

  // Times read in UTC, as in the tables beside the charts.
  const utc = (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");

  function place(element, options, data) {
    options.tzDate = utc;
    element.textContent = "";
    const plot = new uPlot(options, data, element);
    charts.push(plot);
    return plot;
  }

  function drawDrift() {
    const element = document.getElementById("drift-chart");
    const chart = readJson("drift-data");
    if (!element || !chart || !chart.x.length) return;
    const few = chart.x.length < 60;
    const series = [{ label: "window end" }];
    const data = [chart.x];
    chart.lines.forEach((line, index) => {
      const color = index === 0 ? cssVar("--accent") : OTHER_COLORS[(index - 1) % OTHER_COLORS.length];
      series.push({ label: line.label, stroke: color, width: 2, spanGaps: true, points: { show: few, size: 6 }, value: (u, v) => percent(v) });
      data.push(line.values);
    });
    series.push({ label: "threshold", stroke: cssVar("--muted"), width: 1.5, dash: [6, 4], points: { show: false }, value: (u, v) => percent(v) });
    data.push(chart.threshold);
    series.push(Object.assign(markers("dataset drift", cssVar("--bad")), { value: (u, v) => (v === null ? "—" : "drift") }));
    data.push(chart.drift);
    const options = {
      width: Math.max(element.clientWidth, 280),
      height: HEIGHT,
      series,
      scales: { x: { time: true }, y: { range: [0, 1] } },
      axes: axes(percent),
      cursor: { drag: { x: true, y: false }, sync: { key: "shipyard-monitoring" } },
      legend: { live: true },
    };
    const plot = place(element, options, data);
    plot.shipyardKey = "drift";
    openOnClick(plot, chart.reports);
    fold("drift-details");
  }

  function drawQuality() {
    const chart = readJson("quality-data");
    if (!chart || !chart.x.length) return;
    for (const element of document.querySelectorAll(".quality-chart")) {
      const metric = chart.charts[parseInt(element.dataset.index, 10)];
      if (!metric) continue;
      const few = chart.x.length < 60;
      const options = {
        width: Math.max(element.clientWidth, 240),
        height: 200,
        series: [
          { label: "window end" },
          { label: "live", stroke: cssVar("--accent"), width: 2, spanGaps: true, points: { show: few, size: 6 }, value: (u, v) => decimal(v) },
          { label: "baseline", stroke: cssVar("--muted"), width: 1.5, dash: [6, 4], spanGaps: true, points: { show: false }, value: (u, v) => decimal(v) },
          Object.assign(markers("dropped", cssVar("--warn")), { value: (u, v) => (v === null ? "—" : "dropped") }),
        ],
        scales: { x: { time: true } },
        axes: axes(decimal),
        cursor: { drag: { x: true, y: false }, sync: { key: "shipyard-monitoring" } },
        legend: { live: true },
      };
      const plot = place(element, options, [chart.x, metric.current, metric.baseline, metric.dropped]);
      plot.shipyardKey = "quality:" + metric.metric;
    }
    fold("quality-details");
  }

  function drawAll() {
    while (charts.length) charts.pop().destroy();
    drawDrift();
    drawQuality();
    document.documentElement.dataset.monitoringChartsReady = "true";
  }

  function init() {
    if (typeof uPlot === "undefined") return;
    drawAll();
    // The colours come from the theme: draw again when it changes.
    const scheme = window.matchMedia("(prefers-color-scheme: dark)");
    if (scheme.addEventListener) scheme.addEventListener("change", drawAll);
    let pending = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(pending);
      pending = window.setTimeout(() => {
        for (const plot of charts) {
          const width = Math.max(plot.root.parentElement.clientWidth, 240);
          plot.setSize({ width, height: plot.height });
        }
      }, 120);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
