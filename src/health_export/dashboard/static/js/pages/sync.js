// Sync: what arrived when. Every automation of the app (its requests, points, failures,
// last run, rhythm, advice), every metric's newest sample, the gaps with the dates to
// export again, and the newest imported archive's coverage against the feed. ?days= is
// how far back gaps are looked for.

import { getJson, viewedUser } from "../api.js";
import { el, emptyState, num } from "../dom.js";
import { dataTable } from "../tables.js";

const WINDOWS = [30, 90, 365, 730];
const DEFAULT_WINDOW = 90;

function windowDays() {
  const asked = Number(new URLSearchParams(window.location.search).get("days"));
  return WINDOWS.includes(asked) ? asked : DEFAULT_WINDOW;
}

function duration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${num(seconds / 3600, 1)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

const stamp = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "–");

function head(days) {
  const viewed = viewedUser();
  const links = WINDOWS.map((n) => el("a", { href: `?days=${n}${viewed ? `&user_id=${encodeURIComponent(viewed)}` : ""}`, "data-days": n, "aria-current": n === days ? "true" : null, text: `${n} d` }));
  return el("div", { class: "page-head" },
    el("div", {}, el("h1", { text: "Sync" }), el("p", { class: "subtitle", text: `What arrived when · gaps looked for in the last ${days} days of each metric` })),
    el("div", { class: "range" }, el("div", { class: "presets", role: "group", "aria-label": "Gap window" }, links)));
}

function incidentsPanel(incidents) {
  if (!incidents.length) return null;
  return el("section", { class: "panel error", role: "alert", "aria-label": "Open alerts", "data-testid": "incidents" },
    el("h2", { text: "Open alerts" }),
    el("ul", {}, incidents.map((i) => el("li", { text: `${i.summary} (since ${stamp(i.opened_at)})` }))));
}

function automationsPanel(automations) {
  const section = el("section", { class: "panel", "aria-label": "Automations" }, el("h2", { text: "Automations" }));
  if (!automations.length) {
    section.append(el("p", { class: "subtitle", text: "No request from the app yet." }));
    return section;
  }
  section.append(dataTable({
    caption: "Automations", testid: "automations-table", visible: true,
    rowAttrs: (a) => ({ "data-key": a.key, "data-silent": String(a.is_silent) }),
    columns: [
      { label: "Automation", cell: (a) => a.name || a.key },
      { label: "Last request", cell: (a) => `${stamp(a.last_seen)} (${duration(a.silent_for_s)} ago)` },
      { label: "State", cell: (a) => (a.is_silent ? "silent" : "running") },
      { label: "Every", num: true, cell: (a) => duration(a.cadence_s) },
      { label: "Requests", num: true, cell: (a) => num(a.requests, 0) },
      { label: "Points", num: true, cell: (a) => num(a.points, 0) },
      { label: "Rejected", num: true, cell: (a) => num(a.rejected_points, 0) },
      { label: "Failures", num: true, cell: (a) => num(a.failures, 0) },
      { label: "Aggregation", cell: (a) => a.aggregation || "–" },
      { label: "Period", cell: (a) => a.period || "–" },
      { label: "App", cell: (a) => a.app_version || "–" },
    ],
    rows: automations.map((a) => ({ ...a, date: a.last_seen, value: a.points })),
  }));
  const advice = automations.flatMap((a) => a.advice);
  if (advice.length) {
    section.append(el("h3", { text: "Advice" }), el("ul", { class: "advice" }, advice.map((item) => el("li", {
      "data-testid": "advice", "data-rule": item.rule, class: item.severity,
    }, el("strong", { text: `${item.automation}: ` }), item.message, el("span", { class: "subtitle", text: ` (${item.evidence})` })))));
  }
  return section;
}

function metricsPanel(metrics) {
  const section = el("section", { class: "panel", "aria-label": "Metrics" }, el("h2", { text: "Metrics: newest sample" }));
  section.append(dataTable({
    caption: "Newest sample per metric", testid: "sync-metrics-table", visible: true,
    rowAttrs: (m) => ({ "data-metric": m.name, "data-gaps": m.gaps.length }),
    columns: [
      { label: "Metric", cell: (m) => m.name },
      { label: "Newest sample", cell: (m) => stamp(m.newest_sample) },
      { label: "Days with data", num: true, cell: (m) => num(m.days_with_data, 0) },
      { label: "Usual per day", num: true, cell: (m) => num(m.usual_per_day, 0) },
      { label: "Gaps", num: true, cell: (m) => (m.is_daily ? num(m.gaps.length, 0) : "not daily") },
    ],
    rows: metrics.map((m) => ({ ...m, date: m.newest_sample, value: m.days_with_data })),
  }));
  return section;
}

function gapsPanel(metrics) {
  const gaps = metrics.flatMap((m) => m.gaps.map((gap) => ({ ...gap, metric: m.name })));
  const section = el("section", { class: "panel", "aria-label": "Gaps" }, el("h2", { text: "Gaps and their repair" }));
  if (!gaps.length) {
    section.append(el("p", { class: "subtitle", "data-testid": "no-gaps", text: "No gaps: every daily metric has data on each of its usual days." }));
    return section;
  }
  section.append(el("ul", { class: "gaps", "data-testid": "gaps" }, gaps.map((gap) => el("li", {
    "data-testid": "gap", "data-metric": gap.metric, "data-start": gap.start, "data-end": gap.end,
  },
  el("strong", { text: `${gap.metric}: ${gap.start}${gap.end !== gap.start ? ` to ${gap.end}` : ""}` }),
  ` · ${gap.days} day${gap.days === 1 ? "" : "s"}, ${gap.kind === "none" ? "no samples" : `${gap.samples} samples`}`,
  el("p", { text: gap.repair }),
  gap.cause ? el("p", { class: "subtitle", text: `Why: ${gap.cause}` }) : null))));
  return section;
}

function driftPanel(drift) {
  if (!drift.length) return null;
  return el("section", { class: "panel", "aria-label": "New from the app" }, el("h2", { text: "New from the app" }),
    dataTable({
      caption: "Keys, metrics and fields this server does not know yet", testid: "drift-table", visible: true,
      columns: [
        { label: "What", cell: (d) => d.kind.replaceAll("_", " ") },
        { label: "Name", cell: (d) => d.name },
        { label: "App", cell: (d) => d.app_version || "–" },
        { label: "Requests", num: true, cell: (d) => num(d.requests, 0) },
        { label: "Last seen", cell: (d) => stamp(d.last_seen) },
      ],
      rows: drift.map((d) => ({ ...d, date: d.last_seen, value: d.requests })),
    }));
}

const COVERAGE_DAYS_SHOWN = 60;

// Per metric: the archive's days, samples, the feed's rows, and the days the feed lacks.
function coverageByMetric(days) {
  const metrics = new Map();
  for (const day of days) {
    const m = metrics.get(day.metric) || { metric: day.metric, days: 0, archive: 0, feed: 0, only: 0, incomplete: 0, first: day.date, last: day.date };
    m.days += 1;
    m.archive += day.archive;
    m.feed += day.feed;
    m.only += day.only_in_archive;
    m.incomplete += day.feed_incomplete ? 1 : 0;
    if (day.date < m.first) m.first = day.date;
    if (day.date > m.last) m.last = day.date;
    metrics.set(day.metric, m);
  }
  return [...metrics.values()].sort((a, b) => a.metric.localeCompare(b.metric));
}

function coveragePanel(imported, coverage) {
  const section = el("section", { class: "panel", "aria-label": "Archive coverage", "data-testid": "coverage-panel" },
    el("h2", { text: "Archive against the feed" }));
  if (viewedUser()) {
    section.append(el("p", { class: "subtitle", text: "Imports are listed to their owner only: this user's archive coverage shows on their own dashboard." }));
    return section;
  }
  if (!imported) {
    section.append(el("p", { class: "subtitle", "data-testid": "no-import", text: "No Apple Health archive imported yet: upload one (docs/import.md) to see which days the app's feed is missing." }));
    return section;
  }
  section.append(el("p", { class: "subtitle", text: `Archive imported ${stamp(imported.finished_at)}: ${num(coverage.days_feed_incomplete, 0)} metric-day${coverage.days_feed_incomplete === 1 ? "" : "s"} where the feed holds fewer samples than the archive.` }));
  section.append(dataTable({
    caption: "Archive coverage per metric", testid: "coverage-table", visible: true,
    rowAttrs: (m) => ({ "data-metric": m.metric, "data-incomplete": m.incomplete }),
    columns: [
      { label: "Metric", cell: (m) => m.metric },
      { label: "Days", cell: (m) => `${m.first} – ${m.last} (${num(m.days, 0)})` },
      { label: "Archive samples", num: true, cell: (m) => num(m.archive, 0) },
      { label: "Feed rows", num: true, cell: (m) => num(m.feed, 0) },
      { label: "Only in the archive", num: true, cell: (m) => num(m.only, 0) },
      { label: "Days the feed lacks", num: true, cell: (m) => num(m.incomplete, 0) },
    ],
    rows: coverageByMetric(coverage.days).map((m) => ({ ...m, date: m.last, value: m.only })),
  }));
  const lacking = coverage.days.filter((d) => d.feed_incomplete).sort((a, b) => b.date.localeCompare(a.date));
  if (lacking.length) {
    section.append(el("h3", { text: lacking.length > COVERAGE_DAYS_SHOWN ? `The newest ${COVERAGE_DAYS_SHOWN} days the feed lacks` : "Days the feed lacks" }),
      dataTable({
        caption: "Days the feed holds fewer samples than the archive", testid: "coverage-days-table",
        rowAttrs: (d) => ({ "data-metric": d.metric, "data-archive": d.archive, "data-feed": d.feed }),
        columns: [
          { label: "Day", cell: (d) => d.date },
          { label: "Metric", cell: (d) => d.metric },
          { label: "Archive", num: true, cell: (d) => num(d.archive, 0) },
          { label: "Feed", num: true, cell: (d) => num(d.feed, 0) },
          { label: "Only in the archive", num: true, cell: (d) => num(d.only_in_archive, 0) },
        ],
        rows: lacking.slice(0, COVERAGE_DAYS_SHOWN).map((d) => ({ ...d, value: d.only_in_archive })),
      }));
  }
  return section;
}

// The newest finished import and its coverage (none: no archive imported yet).
async function newestCoverage(imports) {
  const done = imports.find((i) => i.status === "done" && i.coverage_url);
  if (!done) return { imported: null, coverage: null };
  return { imported: done, coverage: await getJson(done.coverage_url) };
}

export async function syncPage() {
  const days = windowDays();
  const [data, archive] = await Promise.all([
    getJson("/api/v1/sync", { days }),
    // /imports lists the caller's own: not asked while an admin looks at another user.
    viewedUser() ? { imported: null, coverage: null } : getJson("/api/v1/imports").then((answer) => newestCoverage(answer.imports)),
  ]);
  const top = head(days);
  const coverage = coveragePanel(archive.imported, archive.coverage);
  if (!data.automations.length && !data.metrics.length && !archive.imported) {
    return { nodes: [top, emptyState("Nothing has arrived yet", "Create an automation in Health Auto Export that posts to /api/v1/ingest (see the README, or run health-export setup-app); each request it sends shows here.")] };
  }
  return {
    nodes: [top, incidentsPanel(data.incidents), automationsPanel(data.automations), metricsPanel(data.metrics), gapsPanel(data.metrics), coverage, driftPanel(data.drift)].filter(Boolean),
  };
}
