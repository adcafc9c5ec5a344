// Activity: daily bars for steps, active energy, distance, exercise and flights, by the
// API's per-period source rule (the Watch and the iPhone are never added up).

import { getJson } from "../api.js";
import { el, emptyState, num } from "../dom.js";
import { chartBox, dailyChart } from "../charts.js";
import { calendarLegend, calendarSvg } from "../calendar.js";
import { addDays, apiParams, pageHead, todayIn } from "../range.js";
import { dataTable } from "../tables.js";
import { convert, shownUnit } from "../units.js";

const CHARTS = [
  { field: "steps", title: "Steps", unit: "steps", color: "--c-steps", digits: 0 },
  { field: "active_energy_kcal", title: "Active energy", unit: "kcal", color: "--c-energy", digits: 0 },
  { field: "distance_km", title: "Walking + running distance", unit: "km", canonical: "km", color: "--c-distance", digits: 2 },
  { field: "exercise_min", title: "Exercise", unit: "min", color: "--c-exercise", digits: 0 },
  { field: "stand_hours", title: "Stand hours", unit: "h", color: "--c-stand", digits: 0 },
  { field: "flights_climbed", title: "Flights climbed", unit: "flights", color: "--c-flights", digits: 0 },
];

function testidOf(field) {
  return field === "steps" ? "daily-steps-table" : `daily-${field.replaceAll("_", "-")}-table`;
}

// The year up to the range's last day (today for "all"), read beside the range unless
// the range holds it already.
function calendarYear(range) {
  const last = range.all ? todayIn(range.tz) : range.end;
  const first = addDays(last, -364);
  const covered = !range.all && range.start <= first;
  return { first, last, covered };
}

function calendarPanel(yearDays, year) {
  const days = yearDays.filter((d) => d.date >= year.first && d.date <= year.last);
  const rows = days.filter((d) => d.steps !== null).map((d) => ({ date: d.date, value: d.steps }));
  const panel = el("section", { class: "panel", "aria-label": "Steps over the year" },
    el("h2", { text: `Steps over the year · ${year.first} – ${year.last}` }));
  if (!rows.length) {
    panel.append(el("p", { class: "empty-state", text: "No steps in this year." }));
    return panel;
  }
  panel.append(
    el("div", { class: "calendar-wrap" }, calendarSvg(rows, { last: year.last, unit: "steps", label: "Steps" })),
    calendarLegend(),
    dataTable({
      caption: "Steps per day over the year",
      testid: "calendar-steps-table",
      columns: [{ label: "Day", cell: (r) => r.date }, { label: "Steps", num: true, cell: (r) => num(r.value, 0) }],
      rows,
    }));
  return panel;
}

export async function activityPage(range) {
  const year = calendarYear(range);
  const yearParams = { ...apiParams(range), start: year.first, end: addDays(year.last, 1) };
  const [data, yearData] = await Promise.all([
    getJson("/api/v1/activity/daily", apiParams(range)),
    year.covered ? null : getJson("/api/v1/activity/daily", yearParams),
  ]);
  const head = pageHead("Activity", range);
  if (!data.days.length) {
    return { nodes: [head, emptyState("No activity yet", "Add Step Count, Active Energy and Apple Exercise Time to an automation in Health Auto Export, or pick a longer range.")] };
  }
  const drawn = [];
  const panels = CHARTS.map((spec) => {
    // Distance in the unit the person reads (km or mi); the rest has no other unit.
    const chart = spec.canonical ? { ...spec, unit: shownUnit(spec.canonical) } : spec;
    const valueOf = (day) => (spec.canonical ? convert(day[chart.field], spec.canonical) : day[chart.field]);
    const rows = data.days.filter((day) => day[chart.field] !== null).map((day) => ({ date: day.date, value: valueOf(day) }));
    const panel = el("section", { class: "panel", "aria-label": chart.title }, el("h2", { text: chart.title }));
    if (!rows.length) {
      panel.append(el("p", { class: "empty-state", text: `No ${chart.title.toLowerCase()} in this range.` }));
      return panel;
    }
    const box = chartBox(`chart-${chart.field}`);
    drawn.push(() => dailyChart(box, {
      dates: data.days.map((d) => d.date),
      series: [{ label: chart.title, values: data.days.map(valueOf), color: chart.color, kind: "bars" }],
      unit: chart.unit,
      format: (v) => num(v, chart.digits),
    }));
    panel.append(box, dataTable({
      caption: `${chart.title} per day`,
      testid: testidOf(chart.field),
      columns: [{ label: "Day", cell: (r) => r.date }, { label: `${chart.title} (${chart.unit})`, num: true, cell: (r) => num(r.value, chart.digits) }],
      rows,
    }));
    return panel;
  });
  const calendar = calendarPanel((yearData || data).days, year);
  return { nodes: [head, ...panels, calendar], afterInsert: () => drawn.forEach((draw) => draw()) };
}
