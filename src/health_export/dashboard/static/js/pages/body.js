// Body: weight, body fat and BMI per local day (each day's mean), with a 7-day mean.

import { getJson } from "../api.js";
import { el, emptyState, num } from "../dom.js";
import { chartBox, dailyChart, rollingMean } from "../charts.js";
import { apiParams, pageHead } from "../range.js";
import { dataTable } from "../tables.js";
import { apiUnit, shownUnit } from "../units.js";

const MEASURES = [
  { metric: "weight_body_mass", title: "Weight", unit: "kg", canonical: "kg", color: "--c-weight", digits: 1, testid: "body-weight-table" },
  { metric: "body_fat_percentage", title: "Body fat", unit: "%", color: "--c-energy", digits: 1, testid: "body-fat-table" },
  { metric: "body_mass_index", title: "Body mass index", unit: "kg/m²", color: "--c-steps", digits: 1, testid: "body-bmi-table" },
];

// Weight in kg or lb, converted by the API (?unit=), so the table is its answer.
function seriesOf(measure, range) {
  const unit = measure.canonical ? apiUnit(measure.canonical) : undefined;
  return getJson(`/api/v1/metrics/${measure.metric}/series`, { ...apiParams(range), bucket: "day", agg: "avg", unit });
}

function panel(spec, answer, drawn) {
  const measure = spec.canonical ? { ...spec, unit: shownUnit(spec.canonical) } : spec;
  const points = answer.points.filter((p) => p.value !== null);
  const section = el("section", { class: "panel", "aria-label": measure.title }, el("h2", { text: measure.title }));
  if (!points.length) {
    section.append(el("p", { class: "empty-state", text: `No ${measure.title.toLowerCase()} in this range.` }));
    return section;
  }
  const dates = points.map((p) => p.start.slice(0, 10));
  const values = points.map((p) => p.value);
  const box = chartBox(`chart-${measure.metric}`);
  drawn.push(() => dailyChart(box, {
    dates,
    unit: measure.unit,
    series: [
      { label: measure.title, values, color: measure.color, kind: "line" },
      { label: "7-day mean", values: rollingMean(values, 7), color: "--c-mean", kind: "dashed", width: 1.5 },
    ],
    format: (v) => num(v, measure.digits),
  }));
  section.append(box, dataTable({
    caption: `${measure.title} per day`,
    testid: measure.testid,
    columns: [{ label: "Day", cell: (r) => r.date }, { label: `${measure.title} (${measure.unit})`, num: true, cell: (r) => num(r.value, measure.digits) }],
    rows: points.map((p) => ({ date: p.start.slice(0, 10), value: p.value })),
  }));
  return section;
}

export async function bodyPage(range) {
  const answers = await Promise.all(MEASURES.map((measure) => seriesOf(measure, range)));
  const head = pageHead("Body", range);
  if (answers.every((answer) => !answer.points.some((p) => p.value !== null))) {
    return { nodes: [head, emptyState("No body measurements yet", "Add Weight & Body Mass, Body Fat Percentage and Body Mass Index to an automation in Health Auto Export, or pick a longer range.")] };
  }
  const drawn = [];
  const panels = MEASURES.map((measure, index) => panel(measure, answers[index], drawn));
  return { nodes: [head, ...panels], afterInsert: () => drawn.forEach((draw) => draw()) };
}
