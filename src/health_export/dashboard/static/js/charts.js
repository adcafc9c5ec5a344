// Charts: uPlot for daily series (bars, lines, a low-high band), SVG for sparklines.

import { cssVar, el, svg } from "./dom.js";

const charts = new Set();
let observer = null;

function dayTs(iso) {
  return Date.parse(`${iso}T12:00:00Z`) / 1000;
}

function widthOf(container) {
  return Math.max(200, Math.floor(container.getBoundingClientRect().width));
}

function watchWidth(container, plot) {
  charts.add({ container, plot });
  if (observer) return;
  observer = new ResizeObserver(() => {
    for (const chart of charts) {
      if (!chart.container.isConnected) { chart.plot.destroy(); charts.delete(chart); continue; }
      const width = widthOf(chart.container);
      if (width !== chart.plot.width) chart.plot.setSize({ width, height: chart.plot.height });
    }
  });
  observer.observe(document.body);
}

function axes(unitLabel) {
  const stroke = cssVar("--muted");
  const grid = { stroke: cssVar("--grid"), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, label: unitLabel, size: 56, labelSize: 18 },
  ];
}

// series: [{ label, values, color (CSS var name), kind: "bars" | "line" | "dashed" | "marks", width? }]
// xs: seconds of wall-clock time read as UTC (timed series); else one x per day in dates.
function drawZones(u, zones) {
  const { left, top, width, height } = u.bbox;
  u.ctx.save();
  for (const zone of zones) {
    const upper = Math.max(top, u.valToPos(zone.high, "y", true));
    const lower = Math.min(top + height, u.valToPos(zone.low, "y", true));
    if (lower <= upper) continue;
    u.ctx.fillStyle = cssVar(zone.color);
    u.ctx.fillRect(left, upper, width, lower - upper);
  }
  u.ctx.restore();
}

export function dailyChart(container, { dates, xs, series, unit, height = 240, band = null, zones = null, format }) {
  const bars = window.uPlot.paths.bars({ size: [0.7, 40] });
  const options = {
    width: widthOf(container),
    height,
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1e3), "UTC"),
    scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
    axes: axes(unit),
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    series: [
      xs
        ? { label: "Time", value: (u, ts) => (ts == null ? "–" : new Date(ts * 1e3).toISOString().slice(11, 19)) }
        : { label: "Day", value: (u, ts) => (ts == null ? "–" : new Date(ts * 1e3).toISOString().slice(0, 10)) },
      ...series.map((s) => ({
        label: s.label,
        stroke: cssVar(s.color),
        fill: s.kind === "bars" ? cssVar(s.color) : undefined,
        width: s.kind === "bars" ? 0 : (s.width || 2),
        dash: s.kind === "dashed" ? [6, 4] : undefined,
        // "marks": points only (events on a timeline), no line between them.
        paths: s.kind === "bars" ? bars : s.kind === "marks" ? () => null : undefined,
        points: s.kind === "marks"
          ? { show: true, size: 11, width: 2, stroke: cssVar(s.color), fill: cssVar("--panel") }
          : { show: s.kind !== "bars" && (xs || dates).length < 60 },
        spanGaps: s.kind !== "bars" && s.kind !== "marks",
        value: (u, v) => (v == null ? "–" : format ? format(v) : String(Math.round(v * 10) / 10)),
      })),
    ],
  };
  if (band) {
    options.bands = [{ series: band, fill: cssVar("--c-band") }];
  }
  if (zones) {
    // Horizontal bands behind the series (heart-rate zones): [{ low, high, color }].
    options.hooks = { drawClear: [(u) => drawZones(u, zones)] };
  }
  const data = [xs || dates.map(dayTs), ...series.map((s) => s.values)];
  const plot = new window.uPlot(options, data, container);
  watchWidth(container, plot);
  return plot;
}

export function chartBox(testid) {
  return el("div", { class: "chart", "data-testid": testid });
}

// A rolling mean over the last `days` values that exist (nulls are skipped).
export function rollingMean(values, days = 7) {
  return values.map((_, index) => {
    const window_ = values.slice(Math.max(0, index - days + 1), index + 1).filter((v) => v != null);
    return window_.length ? window_.reduce((a, b) => a + b, 0) / window_.length : null;
  });
}

export function sparkline(values, typical) {
  const width = 120;
  const height = 40;
  const present = values.filter((v) => v != null);
  const box = svg("svg", { class: "sparkline", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  if (present.length < 2) return box;
  let low = Math.min(...present);
  let high = Math.max(...present);
  if (typical) { low = Math.min(low, typical.low); high = Math.max(high, typical.high); }
  const span = high - low || 1;
  const y = (v) => height - 3 - ((v - low) / span) * (height - 6);
  if (typical) {
    box.append(svg("rect", { class: "typical", x: 0, width, y: y(typical.high), height: Math.max(1, y(typical.low) - y(typical.high)) }));
  }
  const step = width / (values.length - 1);
  const points = values.map((v, i) => (v == null ? null : `${(i * step).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
  box.append(svg("polyline", { points: points.join(" ") }));
  return box;
}

// An instant at the sender's offset ("…T07:30:00-04:00") as its wall clock read as UTC.
export function wallClockSeconds(isoDateTime) {
  return Date.parse(`${isoDateTime.slice(0, 19)}Z`) / 1000;
}
