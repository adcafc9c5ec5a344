// Heart: resting heart rate and HRV with their 7-day means, each day's heart-rate low,
// mean and high as a band with the heart-rate notifications marked on it, and blood
// pressure.

import { getJson } from "../api.js";
import { clockOf, el, emptyState, num } from "../dom.js";
import { chartBox, dailyChart, rollingMean } from "../charts.js";
import { apiParams, pageHead } from "../range.js";
import { dataTable } from "../tables.js";

function panelOf(title, box, table) {
  return el("section", { class: "panel", "aria-label": title }, el("h2", { text: title }), box, table);
}

function rowsOf(days, field) {
  return days.filter((d) => d[field] !== null).map((d) => ({ ...d, value: d[field] }));
}

const KINDS = {
  high_heart_rate_notification: "High heart rate",
  low_heart_rate_notification: "Low heart rate",
  irregular_heart_rhythm_notification: "Irregular rhythm",
};

function kindLabel(kind) {
  return KINDS[kind] || (kind ? kind.replaceAll("_", " ") : "Notification");
}

function notificationsByDay(notifications) {
  const byDay = new Map();
  for (const n of notifications) byDay.set(n.date, [...(byDay.get(n.date) || []), n]);
  return byDay;
}

function markOf(dayNotifications, day) {
  if (!dayNotifications) return null;
  const thresholds = dayNotifications.map((n) => n.threshold).filter((t) => t != null);
  return thresholds.length ? Math.max(...thresholds) : day.hr_max;
}

function notificationsPanel(notifications) {
  return el("section", { class: "panel", "aria-label": "Heart-rate notifications" },
    el("h2", { text: `Heart-rate notifications · ${notifications.length}` }),
    el("ul", { class: "notices" }, notifications.map((n) => el("li", { "data-testid": "heart-notification" },
      el("strong", { text: kindLabel(n.kind) }),
      ` · ${n.date} ${clockOf(n.start)}${n.end ? `–${clockOf(n.end)}` : ""}`,
      n.threshold == null ? "" : ` · threshold ${num(n.threshold, 0)} bpm`))),
    dataTable({
      caption: "Heart-rate notifications",
      testid: "heart-notifications-table",
      rowAttrs: (r) => ({ "data-kind": r.kind, "data-start": r.start }),
      columns: [
        { label: "Day", cell: (r) => r.date },
        { label: "Time", cell: (r) => clockOf(r.start) },
        { label: "Kind", cell: (r) => kindLabel(r.kind) },
        { label: "Threshold (bpm)", num: true, cell: (r) => num(r.threshold, 0) },
      ],
      rows: notifications.map((n) => ({ ...n, value: n.threshold })),
    }));
}

function bloodPressurePanel(readings, drawn) {
  const title = "Blood pressure";
  if (!readings.length) {
    return el("section", { class: "panel", "aria-label": title }, el("h2", { text: title }),
      el("p", { class: "empty-state", text: "No blood pressure in this range: add Blood Pressure to an automation in Health Auto Export." }));
  }
  const box = chartBox("chart-blood-pressure");
  drawn.push(() => dailyChart(box, {
    dates: readings.map((r) => r.date),
    unit: "mmHg",
    series: [
      { label: "Systolic", values: readings.map((r) => r.systolic), color: "--c-heart", kind: "line" },
      { label: "Diastolic", values: readings.map((r) => r.diastolic), color: "--c-hrv", kind: "line" },
    ],
    format: (v) => num(v, 0),
  }));
  return panelOf(`${title} (the day's mean)`, box, dataTable({
    caption: "Blood pressure per day",
    testid: "heart-bp-table",
    rowAttrs: (r) => ({ "data-diastolic": r.diastolic, "data-readings": r.readings }),
    columns: [
      { label: "Day", cell: (r) => r.date },
      { label: "Systolic (mmHg)", num: true, cell: (r) => num(r.systolic, 0) },
      { label: "Diastolic (mmHg)", num: true, cell: (r) => num(r.diastolic, 0) },
      { label: "Readings", num: true, cell: (r) => num(r.readings, 0) },
    ],
    rows: readings.map((r) => ({ ...r, value: r.systolic })),
  }));
}

export async function heartPage(range) {
  const data = await getJson("/api/v1/heart/daily", apiParams(range));
  const head = pageHead("Heart", range);
  const days = data.days;
  if (!days.length && !data.blood_pressure.length && !data.notifications.length) {
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
  const noted = notificationsByDay(data.notifications);
  if (rangeRows.length) {
    const box = chartBox("chart-hr-range");
    const series = [
      { label: "Low", values: days.map((d) => d.hr_min), color: "--c-heart", kind: "line", width: 1 },
      { label: "Mean", values: days.map((d) => d.hr_avg), color: "--c-mean", kind: "line" },
      { label: "High", values: days.map((d) => d.hr_max), color: "--c-heart", kind: "line", width: 1 },
    ];
    if (noted.size) {
      // A notification sits at its threshold (the day's high when it has none).
      series.push({ label: "Notification", values: days.map((d) => markOf(noted.get(d.date), d)), color: "--c-notice", kind: "marks" });
    }
    drawn.push(() => dailyChart(box, { dates, unit: "bpm", band: [3, 1], series, format: (v) => num(v, 0) }));
    panels.push(panelOf("Heart rate per day: low, mean, high, and notifications", box, dataTable({
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
  if (data.notifications.length) panels.push(notificationsPanel(data.notifications));
  panels.push(bloodPressurePanel(data.blood_pressure, drawn));
  return { nodes: [head, ...panels], afterInsert: () => drawn.forEach((draw) => draw()) };
}
