// Explore: any stored metric over any range and bucket (a picker of the person's
// metrics), its values as a chart and a table, and the newest raw rows.

import { ApiError, getJson } from "../api.js";
import { el, emptyState, num } from "../dom.js";
import { chartBox, dailyChart, wallClockSeconds } from "../charts.js";
import { apiParams, pageHead, rangeQuery, zonedParams } from "../range.js";
import { dataTable } from "../tables.js";
import { convert, shownUnit, unitLabel } from "../units.js";

const BUCKETS = ["minute", "hour", "day", "week", "month"];
const AGGS = ["avg", "sum", "min", "max", "count"];
const DAILY = new Set(["day", "week", "month"]);
const NEWEST_ROWS = 50;
// Sleep is stored as nights and stages, not samples: its own page reads it.
const OWN_PAGES = { sleep_analysis: "/sleep" };

function metricOfPath() {
  const part = window.location.pathname.split("/")[2];
  return part ? decodeURIComponent(part) : null;
}

function choice(name, allowed, fallback) {
  const value = new URLSearchParams(window.location.search).get(name);
  return allowed.includes(value) ? value : fallback;
}

function exploreHref(metric, range, bucket, agg) {
  const query = new URLSearchParams(rangeQuery(range));
  if (bucket !== "day") query.set("bucket", bucket);
  if (agg) query.set("agg", agg);
  return `/explore/${encodeURIComponent(metric)}?${query}`;
}

function picker(metrics, chosen, range) {
  const select = (id, label, options, value) => [
    el("label", { for: id, text: label }),
    el("select", { id, name: id.replace("explore-", "") },
      options.map(([optionValue, text]) => el("option", { value: optionValue, text, selected: optionValue === value }))),
  ];
  const form = el("form", {
    class: "filters", "data-testid": "explore-picker",
    on: {
      submit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        window.location.assign(exploreHref(data.get("metric"), range, data.get("bucket"), data.get("agg")));
      },
    },
  },
  select("explore-metric", "Metric", metrics.map((m) => [m.name, `${m.name} (${m.unit || "as sent"})`]), chosen.metric),
  select("explore-bucket", "Bucket", BUCKETS.map((b) => [b, b]), chosen.bucket),
  select("explore-agg", "Aggregate", [["", "default"], ...AGGS.map((a) => [a, a])], chosen.agg || ""),
  el("button", { type: "submit", text: "Show" }));
  return el("section", { class: "panel", "aria-label": "Metric" }, form);
}

function metricsTable(metrics, range) {
  const body = metrics.map((m) => el("tr", { "data-testid": "metric-row", "data-metric": m.name },
    el("td", {}, el("a", { href: OWN_PAGES[m.name] ? `${OWN_PAGES[m.name]}${rangeQuery(range)}` : exploreHref(m.name, range, "day", ""), text: m.name })),
    el("td", { text: m.unit || "as sent" }),
    el("td", { class: "num", text: num(m.count, 0) }),
    el("td", { text: m.first.slice(0, 10) }),
    el("td", { text: m.last.slice(0, 10) }),
    el("td", { text: m.sources.join(", ") })));
  return el("section", { class: "panel", "aria-label": "Your metrics" }, el("h2", { text: "Your metrics" }),
    el("div", { class: "table-wrap" }, el("table", { "data-testid": "metrics-table" },
      el("thead", {}, el("tr", {}, ["Metric", "Unit", "Samples", "First", "Last", "Sources"].map((label) => el("th", { scope: "col", text: label })))),
      el("tbody", {}, body))));
}

// A refused read (a bucket too fine for the range, an unknown metric) is said in the page.
async function orRefusal(promise) {
  try {
    return { answer: await promise };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 400 || error.status === 404 || error.status === 422)) {
      return { refusal: error };
    }
    throw error;
  }
}

function refusalNote(error) {
  return el("p", { class: "empty-state error", role: "alert", "data-testid": "explore-refusal", text: `${error.message} (HTTP ${error.status})` });
}

function seriesPanel(series, summary, drawn) {
  const points = series.points.filter((p) => p.value !== null);
  const title = `${series.metric} · ${series.agg} per ${series.bucket}`;
  const section = el("section", { class: "panel", "aria-label": "Series" }, el("h2", { text: title }));
  if (!points.length) {
    section.append(el("p", { class: "empty-state", "data-testid": "explore-empty", text: "No samples of this metric in this range: pick a longer range." }));
    return section;
  }
  const daily = DAILY.has(series.bucket);
  const dateOf = (p) => (daily ? p.start.slice(0, 10) : p.start);
  const values = points.map((p) => p.value);
  const unit = unitLabel(series.unit || "");
  const digits = Math.max(...values.map(Math.abs)) >= 100 ? 0 : 2;
  section.append(el("dl", { class: "stats", "data-testid": "explore-stats" },
    [["Buckets", num(points.length, 0)], ["Mean", num(values.reduce((a, b) => a + b, 0) / values.length, digits)],
      ["Low", num(Math.min(...values), digits)], ["High", num(Math.max(...values), digits)]]
      .map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value })))));
  const box = chartBox("chart-explore");
  const kind = summary?.kind === "sum" && series.agg !== "avg" ? "bars" : "line";
  drawn.push(() => dailyChart(box, {
    ...(daily ? { dates: points.map(dateOf) } : { xs: points.map((p) => wallClockSeconds(p.start)) }),
    unit,
    series: [{ label: series.metric, values, color: "--c-steps", kind }],
    format: (v) => num(v, digits),
  }));
  section.append(box, dataTable({
    caption: title,
    testid: "explore-series-table",
    columns: [{ label: daily ? "Day" : "Start", cell: (r) => r.date }, { label: `${series.agg}${unit ? ` (${unit})` : ""}`, num: true, cell: (r) => num(r.value, digits) }, { label: "Samples", num: true, cell: (r) => num(r.count, 0) }],
    rows: points.map((p) => ({ date: dateOf(p), value: p.value, count: p.count })),
  }));
  return section;
}

// The series and the newest samples in the unit the person reads (a count has no unit).
function seriesInShownUnit(series) {
  const to = shownUnit(series.unit);
  if (!series.unit || to === series.unit || series.agg === "count") return series;
  return { ...series, unit: to, points: series.points.map((p) => ({ ...p, value: convert(p.value, series.unit) })) };
}

function newestInShownUnit(newest) {
  const to = shownUnit(newest.unit);
  if (!newest.unit || to === newest.unit) return newest;
  const change = (v) => convert(v, newest.unit);
  return {
    ...newest, unit: to,
    samples: newest.samples.map((s) => ({ ...s, unit: to, qty: change(s.qty), min: change(s.min), avg: change(s.avg), max: change(s.max) })),
  };
}

function valueOf(sample) {
  if (sample.systolic !== null) return `${num(sample.systolic, 0)}/${num(sample.diastolic, 0)}`;
  if (sample.qty !== null) return num(sample.qty, 2);
  return `${num(sample.min, 0)} / ${num(sample.avg, 1)} / ${num(sample.max, 0)}`;
}

function newestPanel(newest) {
  const section = el("section", { class: "panel", "aria-label": "Newest samples" }, el("h2", { text: "Newest samples" }));
  if (!newest.samples.length) {
    section.append(el("p", { class: "subtitle", text: "No samples in this range." }));
    return section;
  }
  section.append(dataTable({
    caption: "Newest samples, newest first",
    testid: "newest-table",
    visible: true,
    columns: [
      { label: "Start", cell: (r) => r.date.replace("T", " ").slice(0, 19) },
      { label: "End", cell: (r) => (r.end ? r.end.replace("T", " ").slice(0, 19) : "–") },
      { label: "Source", cell: (r) => r.source },
      { label: "Value", num: true, cell: (r) => valueOf(r) },
      { label: "Unit", cell: (r) => unitLabel(r.unit) },
    ],
    rows: newest.samples.map((s) => ({ ...s, date: s.start, value: s.qty ?? s.avg ?? s.systolic })),
  }));
  if (newest.truncated) section.append(el("p", { class: "subtitle", text: `The newest ${NEWEST_ROWS} of the range; the raw API pages through all of them.` }));
  return section;
}

export async function explorePage(range) {
  const metric = metricOfPath();
  const chosen = { metric, bucket: choice("bucket", BUCKETS, "day"), agg: choice("agg", AGGS, "") };
  const params = apiParams(range);
  const wantsSeries = metric && !OWN_PAGES[metric];
  const [list, series, newest] = await Promise.all([
    getJson("/api/v1/metrics"),
    wantsSeries ? orRefusal(getJson(`/api/v1/metrics/${encodeURIComponent(metric)}/series`, { ...params, bucket: chosen.bucket, agg: chosen.agg })) : null,
    wantsSeries ? orRefusal(getJson(`/api/v1/metrics/${encodeURIComponent(metric)}/newest`, { ...zonedParams(range), limit: NEWEST_ROWS })) : null,
  ]);
  const head = pageHead(metric ? `Explore · ${metric}` : "Explore", range);
  const metrics = list.metrics;
  if (!metrics.length) {
    return { nodes: [head, emptyState("No metrics yet", "Create an automation in Health Auto Export that posts to /api/v1/ingest (see the README); every metric it sends can be explored here.")] };
  }
  const nodes = [head, picker(metrics, { ...chosen, metric: metric || metrics[0].name }, range)];
  if (!metric) return { nodes: [...nodes, metricsTable(metrics, range)] };
  if (OWN_PAGES[metric]) {
    nodes.push(el("section", { class: "panel" }, el("p", {}, `${metric} is read as nights: `, el("a", { href: `${OWN_PAGES[metric]}${rangeQuery(range)}`, text: "open the sleep page" }))));
    return { nodes };
  }
  if (series.refusal) return { nodes: [...nodes, el("section", { class: "panel" }, refusalNote(series.refusal))] };
  const drawn = [];
  const summary = metrics.find((m) => m.name === metric);
  nodes.push(seriesPanel(seriesInShownUnit(series.answer), summary, drawn));
  nodes.push(newest.refusal ? el("section", { class: "panel" }, refusalNote(newest.refusal)) : newestPanel(newestInShownUnit(newest.answer)));
  return { nodes, afterInsert: () => drawn.forEach((draw) => draw()) };
}
