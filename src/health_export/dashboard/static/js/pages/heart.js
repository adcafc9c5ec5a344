// Heart: resting heart rate and HRV with their 7-day means, and each day's heart-rate
// low, mean and high as a band.

import { getJson } from "../api.js";
import { el, emptyState, num } from "../dom.js";
import { chartBox, dailyChart, rollingMean } from "../charts.js";
import { apiParams, pageHead } from "../range.js";
import { dataTable } from "../tables.js";

function panelOf(title, box, table) {
  return el("section", { class: "panel", "aria-label": title }, el("h2", { text: title }), box, table);
}

function rowsOf(days, field) {
  return days.filter((d) => d[field] !== null).map((d) => ({ ...d, value: d[field] }));
}

export async function heartPage(range) {
  const data = await getJson("/api/v1/heart/daily", apiParams(range));
  const head = pageHead("Heart", range);
  const days = data.days;
  if (!days.length) {
    return { nodes: [head, emptyState("No heart data yet", "Add Heart Rate, Resting Heart Rate and Heart Rate Variability to an automation in Health Auto Export, or pick a longer range.")] };
  }
  const dates = days.map((d) => d.date);
  const panels = [];
  const drawn = [];
  const trend = (field, title, unit, color) => {
    const rows = rowsOf(days, field);
    if (!rows.length) {
      panels.push(el("section", { class: "panel" }, el("h2", { text: title }), el("p", { class: "empty-state", text: `No ${title.toLowerCase()} in this range.` })));
      return;
    }
    const values = days.map((d) => d[field]);
    const box = chartBox(`chart-${field}`);
    drawn.push(() => dailyChart(box, {
      dates,
      unit,
      series: [
        { label: title, values, color, kind: "line" },
        { label: "7-day mean", values: rollingMean(values, 7), color: "--c-mean", kind: "dashed", width: 1.5 },
      ],
      format: (v) => num(v, 0),
    }));
    panels.push(panelOf(title, box, dataTable({
      caption: `${title} per day`,
      testid: `heart-${field.replaceAll("_", "-")}-table`,
      columns: [{ label: "Day", cell: (r) => r.date }, { label: `${title} (${unit})`, num: true, cell: (r) => num(r.value, 1) }],
      rows,
    })));
  };
  trend("resting_hr", "Resting heart rate", "bpm", "--c-heart");
  trend("hrv_ms", "Heart rate variability", "ms", "--c-hrv");
  const rangeRows = rowsOf(days, "hr_avg");
  if (rangeRows.length) {
    const box = chartBox("chart-hr-range");
    drawn.push(() => dailyChart(box, {
      dates,
      unit: "bpm",
      band: [3, 1],
      series: [
        { label: "Low", values: days.map((d) => d.hr_min), color: "--c-heart", kind: "line", width: 1 },
        { label: "Mean", values: days.map((d) => d.hr_avg), color: "--c-mean", kind: "line" },
        { label: "High", values: days.map((d) => d.hr_max), color: "--c-heart", kind: "line", width: 1 },
      ],
      format: (v) => num(v, 0),
    }));
    panels.push(panelOf("Heart rate per day: low, mean, high", box, dataTable({
      caption: "Heart rate per day",
      testid: "heart-range-table",
      columns: [
        { label: "Day", cell: (r) => r.date },
        { label: "Low (bpm)", num: true, cell: (r) => num(r.hr_min, 0) },
        { label: "Mean (bpm)", num: true, cell: (r) => num(r.hr_avg, 1) },
        { label: "High (bpm)", num: true, cell: (r) => num(r.hr_max, 0) },
      ],
      rows: rangeRows,
    })));
  }
  return { nodes: [head, ...panels], afterInsert: () => drawn.forEach((draw) => draw()) };
}
