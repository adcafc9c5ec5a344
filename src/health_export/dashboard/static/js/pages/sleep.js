// Sleep: the last night's summary, stages stacked per night, a one-night hypnogram
// (click or press Enter on a night), the bedtime and wake-up schedule, efficiency per
// night, and the nights table.

import { getJson } from "../api.js";
import { clockOf, dayLabel, el, emptyState, hoursMinutes, num, svg } from "../dom.js";
import { chartBox, dailyChart } from "../charts.js";
import { apiParams, pageHead } from "../range.js";
import { dataTable } from "../tables.js";

const STAGES = [
  ["deep", "deep_h", "Deep"],
  ["core", "core_h", "Core"],
  ["rem", "rem_h", "REM"],
  ["asleep", "asleep_h", "Asleep (no stage)"],
  ["awake", "awake_h", "Awake"],
];
const LANES = { Awake: 0, REM: 1, Core: 2, Asleep: 2, Unspecified: 2, Deep: 3 };
const LANE_NAMES = ["Awake", "REM", "Core", "Deep"];
const STAGE_CLASS = { Awake: "awake", REM: "rem", Core: "core", Asleep: "asleep", Unspecified: "asleep", Deep: "deep", InBed: "inbed" };

function legend() {
  return el("ul", { class: "legend" }, STAGES.map(([cls, , label]) => el("li", { class: cls, text: label })));
}

function summary(night) {
  const items = [
    ["Total sleep", hoursMinutes(night.total_sleep_h)],
    ["In bed", hoursMinutes(night.in_bed_h)],
    ["Efficiency", night.efficiency == null ? "–" : `${num(night.efficiency * 100, 0)} %`],
    ["Fell asleep", clockOf(night.sleep_start || night.in_bed_start)],
    ["Woke up", clockOf(night.sleep_end || night.in_bed_end)],
    ["Deep", hoursMinutes(night.deep_h)],
    ["REM", hoursMinutes(night.rem_h)],
  ];
  return el("section", { class: "panel", "aria-label": "Last night" },
    el("h2", { text: `Last night · ${dayLabel(night.date)}` }),
    el("dl", { class: "stats", "data-testid": "last-night" }, items.map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value })))),
    el("p", { class: "subtitle", text: `Source: ${night.sources.join(", ")}` }));
}

function stackChart(nights, onPick) {
  const width = 800;
  const height = 260;
  const pad = { left: 34, right: 8, top: 10, bottom: 26 };
  const totalOf = (n) => STAGES.reduce((sum, [, field]) => sum + (n[field] || 0), 0);
  const top = Math.max(8, Math.ceil(Math.max(...nights.map(totalOf)) / 2) * 2);
  const plotH = height - pad.top - pad.bottom;
  const slot = (width - pad.left - pad.right) / nights.length;
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const y = (h) => pad.top + plotH - (h / top) * plotH;
  const chart = svg("svg", { class: "stack", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Sleep stages per night", "data-testid": "sleep-stack" });
  for (let h = 0; h <= top; h += 2) {
    chart.append(svg("line", { class: "gridline", x1: pad.left, x2: width - pad.right, y1: y(h), y2: y(h) }),
      svg("text", { x: pad.left - 6, y: y(h) + 4, "text-anchor": "end", text: `${h}h` }));
  }
  const labelEvery = Math.ceil(nights.length / 10);
  nights.forEach((night, index) => {
    const x = pad.left + index * slot + (slot - barW) / 2;
    const group = svg("g", { class: "night", tabindex: 0, role: "button", "data-date": night.date, "aria-label": `${night.date}: ${hoursMinutes(night.total_sleep_h)} asleep` });
    let base = 0;
    for (const [cls, field] of STAGES) {
      const hours = night[field] || 0;
      if (hours <= 0) continue;
      group.append(svg("rect", { class: cls, x, width: barW, y: y(base + hours), height: y(base) - y(base + hours) }));
      base += hours;
    }
    group.append(svg("rect", { class: "outline", x: x - 1, width: barW + 2, y: y(base) - 1, height: y(0) - y(base) + 2 }));
    group.append(svg("title", { text: `${night.date}: ${hoursMinutes(night.total_sleep_h)}` }));
    const pick = () => onPick(night, group);
    group.addEventListener("click", pick);
    group.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(); } });
    chart.append(group);
    if (index % labelEvery === 0) {
      chart.append(svg("text", { x: x + barW / 2, y: height - 8, "text-anchor": "middle", text: night.date.slice(5) }));
    }
  });
  return chart;
}

function hypnogram(night) {
  const segments = night.segments.filter((s) => s.stage !== "InBed" && LANES[s.stage] !== undefined);
  if (!segments.length) {
    return el("p", { class: "subtitle", text: `${dayLabel(night.date)}: this night arrived as totals only (aggregated), so there is no stage timeline. Export Sleep Analysis unaggregated to see one.` });
  }
  const width = 800;
  const height = 170;
  const left = 56;
  const laneH = 30;
  const first = Math.min(...segments.map((s) => Date.parse(s.start)));
  const last = Math.max(...segments.map((s) => Date.parse(s.end)));
  const x = (t) => left + ((t - first) / (last - first || 1)) * (width - left - 8);
  const chart = svg("svg", { class: "hypnogram", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Sleep stages of the night to ${night.date}`, "data-testid": "hypnogram" });
  LANE_NAMES.forEach((name, lane) => {
    chart.append(svg("text", { x: 0, y: 8 + lane * laneH + laneH / 2 + 4, text: name }));
    chart.append(svg("line", { class: "gridline", x1: left, x2: width - 8, y1: 8 + (lane + 1) * laneH, y2: 8 + (lane + 1) * laneH }));
  });
  for (const s of segments) {
    const lane = LANES[s.stage];
    chart.append(svg("rect", { class: STAGE_CLASS[s.stage], x: x(Date.parse(s.start)), y: 10 + lane * laneH, height: laneH - 4, width: Math.max(1, x(Date.parse(s.end)) - x(Date.parse(s.start))) },
      svg("title", { text: `${s.stage} ${clockOf(s.start)}–${clockOf(s.end)}` })));
  }
  const firstSeg = segments.reduce((a, b) => (Date.parse(a.start) <= Date.parse(b.start) ? a : b));
  const lastSeg = segments.reduce((a, b) => (Date.parse(a.end) >= Date.parse(b.end) ? a : b));
  chart.append(svg("text", { x: left, y: height - 6, text: clockOf(firstSeg.start) }),
    svg("text", { x: width - 8, y: height - 6, "text-anchor": "end", text: clockOf(lastSeg.end) }));
  return chart;
}

// Minutes of the sender's clock after the evening's noon (23:30 → 690, 07:00 → 1140).
function eveningMinutes(isoDateTime) {
  const minutes = Number(isoDateTime.slice(11, 13)) * 60 + Number(isoDateTime.slice(14, 16));
  return minutes < 12 * 60 ? minutes + 12 * 60 : minutes - 12 * 60;
}

function clockLabel(minutesAfterNoon) {
  const minutes = (minutesAfterNoon + 12 * 60) % (24 * 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const bedtimeOf = (n) => n.in_bed_start || n.sleep_start;
const wakeOf = (n) => n.sleep_end || n.in_bed_end;

// One bar per night from bedtime to wake-up on a clock axis (the evening on top).
function scheduleChart(nights) {
  const width = 800;
  const height = 260;
  const pad = { left: 48, right: 8, top: 10, bottom: 26 };
  const spans = nights.map((n) => [eveningMinutes(bedtimeOf(n)), eveningMinutes(wakeOf(n))]);
  const low = Math.floor((Math.min(...spans.map((s) => s[0])) - 30) / 60) * 60;
  const high = Math.ceil((Math.max(...spans.map((s) => s[1])) + 30) / 60) * 60;
  const y = (m) => pad.top + ((m - low) / (high - low || 1)) * (height - pad.top - pad.bottom);
  const slot = (width - pad.left - pad.right) / nights.length;
  const barW = Math.max(2, Math.min(20, slot * 0.6));
  const chart = svg("svg", { class: "schedule", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Bedtime and wake-up per night", "data-testid": "sleep-schedule" });
  const step = high - low > 12 * 60 ? 120 : 60;
  for (let m = low; m <= high; m += step) {
    chart.append(svg("line", { class: "gridline", x1: pad.left, x2: width - pad.right, y1: y(m), y2: y(m) }),
      svg("text", { x: pad.left - 6, y: y(m) + 4, "text-anchor": "end", text: clockLabel(m) }));
  }
  const labelEvery = Math.ceil(nights.length / 10);
  nights.forEach((night, index) => {
    const [bed, wake] = spans[index];
    const x = pad.left + index * slot + (slot - barW) / 2;
    chart.append(svg("rect", { class: "sleep-span", x, width: barW, y: y(bed), height: Math.max(1, y(wake) - y(bed)), rx: 2, "data-date": night.date },
      svg("title", { text: `${night.date}: ${clockOf(bedtimeOf(night))}–${clockOf(wakeOf(night))}` })));
    if (index % labelEvery === 0) chart.append(svg("text", { x: x + barW / 2, y: height - 8, "text-anchor": "middle", text: night.date.slice(5) }));
  });
  return chart;
}

function schedulePanel(nights) {
  const timed = nights.filter((n) => bedtimeOf(n) && wakeOf(n));
  const section = el("section", { class: "panel", "aria-label": "Bedtime and wake-up" }, el("h2", { text: "Bedtime and wake-up" }));
  if (!timed.length) {
    section.append(el("p", { class: "empty-state", text: "These nights carry no bedtime or wake-up time." }));
    return section;
  }
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  const bed = mean(timed.map((n) => eveningMinutes(bedtimeOf(n))));
  const wake = mean(timed.map((n) => eveningMinutes(wakeOf(n))));
  section.append(
    el("p", { class: "subtitle", "data-testid": "schedule-means", text: `On average to bed at ${clockLabel(Math.round(bed))}, up at ${clockLabel(Math.round(wake))}` }),
    scheduleChart(timed),
    dataTable({
      caption: "Bedtime and wake-up per night",
      testid: "sleep-schedule-table",
      rowAttrs: (r) => ({ "data-bedtime": bedtimeOf(r), "data-wake": wakeOf(r) }),
      columns: [
        { label: "Night to", cell: (r) => r.date },
        { label: "Bedtime", cell: (r) => clockOf(bedtimeOf(r)) },
        { label: "Wake-up", cell: (r) => clockOf(wakeOf(r)) },
        { label: "Asleep", num: true, cell: (r) => hoursMinutes(r.total_sleep_h) },
      ],
      rows: timed.map((n) => ({ ...n, value: n.total_sleep_h })),
    }));
  return section;
}

function efficiencyPanel(nights, drawn) {
  const rated = nights.filter((n) => n.efficiency != null);
  const section = el("section", { class: "panel", "aria-label": "Efficiency" }, el("h2", { text: "Efficiency: time asleep of time in bed" }));
  if (!rated.length) {
    section.append(el("p", { class: "empty-state", text: "No time in bed recorded, so no efficiency: export Sleep Analysis with in-bed times." }));
    return section;
  }
  const box = chartBox("chart-sleep-efficiency");
  drawn.push(() => dailyChart(box, {
    dates: nights.map((n) => n.date),
    unit: "%",
    series: [{ label: "Efficiency", values: nights.map((n) => (n.efficiency == null ? null : n.efficiency * 100)), color: "--c-asleep", kind: "line" }],
    format: (v) => `${num(v, 0)} %`,
  }));
  section.append(box, dataTable({
    caption: "Efficiency per night",
    testid: "sleep-efficiency-table",
    columns: [{ label: "Night to", cell: (r) => r.date }, { label: "Efficiency", num: true, cell: (r) => `${num(r.value * 100, 0)} %` }],
    rows: rated.map((n) => ({ date: n.date, value: n.efficiency })),
  }));
  return section;
}

function nightsTable(nights) {
  const h = (field) => (row) => hoursMinutes(row[field]);
  return dataTable({
    caption: "Nights",
    testid: "nights-table",
    visible: true,
    rowAttrs: (row) => ({ "data-total-sleep-h": row.total_sleep_h ?? "" }),
    columns: [
      { label: "Night to", cell: (r) => r.date },
      { label: "Asleep", num: true, cell: h("total_sleep_h") },
      { label: "Deep", num: true, cell: h("deep_h") },
      { label: "Core", num: true, cell: h("core_h") },
      { label: "REM", num: true, cell: h("rem_h") },
      { label: "Awake", num: true, cell: h("awake_h") },
      { label: "In bed", num: true, cell: h("in_bed_h") },
      { label: "Efficiency", num: true, cell: (r) => (r.efficiency == null ? "–" : `${num(r.efficiency * 100, 0)} %`) },
      { label: "Bedtime", cell: (r) => clockOf(r.in_bed_start || r.sleep_start) },
      { label: "Wake-up", cell: (r) => clockOf(r.sleep_end || r.in_bed_end) },
    ],
    rows: nights.slice().reverse().map((n) => ({ ...n, value: n.total_sleep_h })),
  });
}

export async function sleepPage(range) {
  const data = await getJson("/api/v1/sleep", apiParams(range));
  const head = pageHead("Sleep", range);
  const nights = data.nights;
  if (!nights.length) {
    return { nodes: [head, emptyState("No sleep yet", "Add Sleep Analysis to an automation in Health Auto Export, or pick a longer range.")] };
  }
  const last = nights[nights.length - 1];
  const detail = el("div", { "data-testid": "night-detail" });
  let selected = null;
  const pick = (night, group) => {
    selected?.classList.remove("selected");
    group?.classList.add("selected");
    selected = group;
    detail.replaceChildren(el("h2", { text: `Night to ${dayLabel(night.date)}` }), hypnogram(night));
  };
  const stack = stackChart(nights, pick);
  pick(last, stack.querySelector(`g[data-date="${last.date}"]`));
  const drawn = [];
  return {
    nodes: [
      head,
      summary(last),
      el("section", { class: "panel", "aria-label": "Stages per night" }, el("h2", { text: "Stages per night" }), stack, legend()),
      el("section", { class: "panel", "aria-label": "One night" }, detail),
      schedulePanel(nights),
      efficiencyPanel(nights, drawn),
      el("section", { class: "panel", "aria-label": "Nights" }, el("h2", { text: "Nights" }), nightsTable(nights)),
    ],
    afterInsert: () => drawn.forEach((draw) => draw()),
  };
}
