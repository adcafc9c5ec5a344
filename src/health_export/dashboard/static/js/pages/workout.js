// One workout: summary, heart rate over time, the route drawn in SVG (coloured by pace,
// no map tiles), elevation, and the route as GPX or GeoJSON.

import { apiUrl, getJson } from "../api.js";
import { dayLabel, el, hoursMinutes, num, svg } from "../dom.js";
import { chartBox, dailyChart, wallClockSeconds } from "../charts.js";
import { addDays, rangeQuery } from "../range.js";
import { maxHeartRate, secondsInZones, zoneBounds } from "../zones.js";
import { dataTable } from "../tables.js";
import { convert, shownUnit } from "../units.js";

const PACE_BUCKETS = 5;

// A same-origin link to an API path (with the viewed user, when an admin looks on).
function localHref(path, params) {
  const url = apiUrl(path, params);
  return `${url.pathname}${url.search}`;
}

function stats(workout) {
  const items = [
    ["Duration", workout.duration_s == null ? "–" : hoursMinutes(workout.duration_s / 3600)],
    ["Distance", workout.distance_km == null ? "–" : `${num(convert(workout.distance_km, "km"), 2)} ${shownUnit("km")}`],
    ["Active energy", workout.active_energy_kcal == null ? "–" : `${num(workout.active_energy_kcal, 0)} kcal`],
    ["Avg heart rate", workout.avg_heart_rate == null ? "–" : `${num(workout.avg_heart_rate, 0)} bpm`],
    ["Max heart rate", workout.max_heart_rate == null ? "–" : `${num(workout.max_heart_rate, 0)} bpm`],
    ["Where", workout.is_indoor === null ? (workout.location || "–") : (workout.is_indoor ? "Indoor" : "Outdoor")],
  ];
  return el("dl", { class: "stats", "data-testid": "workout-summary" },
    items.map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value }))));
}

// Web Mercator, one scale for both axes so the shape is true, centred in the box.
function project(coordinates, width, height, pad) {
  const xy = coordinates.map(([lon, lat]) => [lon * Math.PI / 180, -Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360))]);
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((width - 2 * pad) / (maxX - minX || 1e-9), (height - 2 * pad) / (maxY - minY || 1e-9));
  const offX = (width - (maxX - minX) * scale) / 2;
  const offY = (height - (maxY - minY) * scale) / 2;
  return xy.map(([x, y]) => [offX + (x - minX) * scale, offY + (y - minY) * scale]);
}

function paceBuckets(speeds, count) {
  const known = speeds.filter((s) => s != null && s > 0).sort((a, b) => a - b);
  if (known.length < 2 || known[0] === known[known.length - 1]) return null;
  const edges = [];
  for (let i = 1; i < PACE_BUCKETS; i += 1) edges.push(known[Math.floor((known.length * i) / PACE_BUCKETS)]);
  return Array.from({ length: count }, (_, i) => {
    const speed = speeds[i];
    if (speed == null || speed <= 0) return 0;
    return edges.filter((edge) => speed >= edge).length;
  });
}

export function routeSvg(feature) {
  const times = feature.properties.times || [];
  // A one-point route is stored as a zero-length line of two equal positions.
  const coordinates = times.length === 1 ? feature.geometry.coordinates.slice(0, 1) : feature.geometry.coordinates;
  const width = 600;
  const height = 420;
  const points = project(coordinates, width, height, 20);
  const text = (p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`;
  const box = svg("svg", {
    class: "route", viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": "route",
    "data-points": coordinates.length, "aria-label": `Route of ${coordinates.length} points`,
  });
  box.append(svg("polyline", { class: "track", points: points.map(text).join(" ") }));
  const buckets = paceBuckets(feature.properties.speed || [], points.length);
  let run = [points[0]];
  let bucket = buckets ? buckets[0] : 2;
  const flush = () => { if (run.length > 1) box.append(svg("polyline", { class: `pace-${bucket}`, points: run.map(text).join(" ") })); };
  for (let i = 1; i < points.length; i += 1) {
    run.push(points[i]);
    const next = buckets ? buckets[i] : bucket;
    if (next !== bucket) { flush(); run = [points[i]]; bucket = next; }
  }
  flush();
  box.append(svg("circle", { class: "start", cx: points[0][0], cy: points[0][1], r: 7 }, svg("title", { text: "Start" })));
  const end = points[points.length - 1];
  box.append(svg("circle", { class: "finish", cx: end[0], cy: end[1], r: 7 }, svg("title", { text: "Finish" })));
  return box;
}

function paceLegend() {
  const labels = ["slowest", "slower", "middle", "faster", "fastest"];
  return el("ul", { class: "legend pace-legend" }, labels.map((label, i) => el("li", { class: `p${i}`, text: label })),
    el("li", { class: "start-mark", text: "green: start, red: finish" }));
}

function heartSeries(workout) {
  const points = workout.series.heartRateData || workout.series.heart_rate || [];
  return points.map((p) => ({ start: p.start, value: p.avg ?? p.qty, min: p.min, max: p.max })).filter((p) => p.value != null);
}

// One row per zone: data-zone, data-value (seconds in it), data-date (the workout's day).
function zonesPanel(heart, bounds, maxHr, day) {
  const points = heart.map((p) => ({ t: wallClockSeconds(p.start), value: p.value }));
  const { seconds, below } = secondsInZones(points, bounds);
  const total = seconds.reduce((a, b) => a + b, 0) + below;
  const minutes = (s) => `${num(s / 60, 1)} min`;
  const rows = bounds.map((zone, i) => ({ ...zone, date: day, value: seconds[i] }));
  return el("section", { class: "panel", "aria-label": "Heart-rate zones", "data-testid": "zones-panel", "data-max-hr": maxHr },
    el("h2", { text: "Heart-rate zones" }),
    el("p", { class: "subtitle", text: `Of a maximum of ${num(maxHr, 0)} bpm: the highest heart rate recorded in the year up to this workout.` }),
    el("ul", { class: "zone-bars" }, rows.map((zone) => el("li", { class: zone.key },
      el("span", { class: "zone-label", text: `${zone.label} · ${num(zone.low, 0)}–${num(zone.high, 0)} bpm` }),
      el("progress", { max: total || 1, value: zone.value, "aria-label": zone.label }),
      el("span", { class: "zone-time", text: minutes(zone.value) })))),
    below ? el("p", { class: "subtitle", text: `Below zone 1: ${minutes(below)}` }) : null,
    dataTable({
      caption: "Time in each heart-rate zone",
      testid: "workout-zones-table",
      rowAttrs: (r) => ({ "data-zone": r.key, "data-low": r.low, "data-high": r.high }),
      columns: [
        { label: "Zone", cell: (r) => r.label },
        { label: "From (bpm)", num: true, cell: (r) => num(r.low, 0) },
        { label: "To (bpm)", num: true, cell: (r) => num(r.high, 0) },
        { label: "Time", num: true, cell: (r) => minutes(r.value) },
      ],
      rows,
    }));
}

export async function workoutPage(range) {
  const id = decodeURIComponent(window.location.pathname.split("/").pop());
  const workout = await getJson(`/api/v1/workouts/${encodeURIComponent(id)}`);
  const day = workout.start.slice(0, 10);
  const [feature, year] = await Promise.all([
    workout.has_route ? getJson(`/api/v1/workouts/${encodeURIComponent(id)}/route`) : null,
    // The year's monthly maxima of heart rate, for the zones' maximum.
    getJson("/api/v1/metrics/heart_rate/series", { start: addDays(day, -365), end: addDays(day, 1), bucket: "month", agg: "max" }),
  ]);
  document.title = `${workout.name} · health-export`;
  const nodes = [
    el("p", {}, el("a", { href: `/workouts${rangeQuery(range)}`, text: "← All workouts" })),
    el("div", { class: "page-head" }, el("div", {}, el("h1", { text: workout.name }),
      el("p", { class: "subtitle", text: `${dayLabel(workout.start.slice(0, 10))} · ${workout.start.slice(11, 16)}${workout.end ? `–${workout.end.slice(11, 16)}` : ""}` }))),
    el("section", { class: "panel" }, stats(workout)),
  ];
  const drawn = [];
  const heart = heartSeries(workout);
  if (heart.length) {
    const maxHr = maxHeartRate(year.points.map((p) => p.value), Math.max(workout.max_heart_rate ?? 0, ...heart.map((p) => p.max ?? p.value)));
    const bounds = zoneBounds(maxHr);
    const box = chartBox("chart-workout-hr");
    drawn.push(() => dailyChart(box, {
      xs: heart.map((p) => wallClockSeconds(p.start)), unit: "bpm",
      series: [{ label: "Heart rate", values: heart.map((p) => p.value), color: "--c-heart", kind: "line" }],
      zones: bounds.map((zone) => ({ low: zone.low, high: zone.high, color: `--${zone.key}` })),
      format: (v) => num(v, 0),
    }));
    nodes.push(el("section", { class: "panel" }, el("h2", { text: "Heart rate" }), box, dataTable({
      caption: "Heart rate during the workout", testid: "workout-hr-table",
      columns: [{ label: "Time", cell: (r) => r.date.slice(11, 19) }, { label: "Heart rate (bpm)", num: true, cell: (r) => num(r.value, 0) }],
      rows: heart.map((p) => ({ date: p.start, value: p.value })),
    })), zonesPanel(heart, bounds, maxHr, day));
  }
  if (feature) {
    // Elevation in m or ft.
    const altitudes = feature.geometry.coordinates.map((c) => (c.length > 2 ? convert(c[2], "m") : null));
    const times = feature.properties.times || [];
    const side = el("div", {}, el("h2", { text: "Route" }), paceLegend(), el("div", { class: "downloads" },
      el("a", { class: "button", href: localHref(`/api/v1/workouts/${encodeURIComponent(id)}/route`, { format: "gpx" }), download: `workout-${id}.gpx`, text: "Download GPX" }),
      el("a", { class: "button", href: localHref(`/api/v1/workouts/${encodeURIComponent(id)}/route`), download: `workout-${id}.geojson`, text: "Download GeoJSON" })));
    nodes.push(el("section", { class: "panel route-wrap" }, routeSvg(feature), side));
    if (altitudes.some((a) => a != null) && times.length === altitudes.length && times.length > 1) {
      const box = chartBox("chart-elevation");
      drawn.push(() => dailyChart(box, {
        xs: times.map(wallClockSeconds), unit: shownUnit("m"), height: 180,
        series: [{ label: "Elevation", values: altitudes, color: "--c-distance", kind: "line" }],
        format: (v) => num(v, 0),
      }));
      nodes.push(el("section", { class: "panel" }, el("h2", { text: "Elevation" }), box, dataTable({
        caption: "Elevation along the route", testid: "elevation-table",
        columns: [{ label: "Time", cell: (r) => r.date.slice(11, 19) }, { label: `Elevation (${shownUnit("m")})`, num: true, cell: (r) => num(r.value, 1) }],
        rows: times.map((t, i) => ({ date: t, value: altitudes[i] })),
      })));
    }
  } else {
    nodes.push(el("section", { class: "panel" }, el("p", { class: "subtitle", text: "No route for this workout (indoor, or the automation does not include routes)." })));
  }
  return { nodes, afterInsert: () => drawn.forEach((draw) => draw()) };
}
