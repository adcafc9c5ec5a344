// A year calendar heatmap in SVG: one square per day (weeks as columns, Monday on top),
// shaded in five steps by the day's value against the year's own spread.

import { dayLabel, num, svg } from "./dom.js";
import { addDays } from "./range.js";

const CELL = 13;
const GAP = 2;
const LEFT = 28;
const TOP = 16;
const LEVELS = 5;
const WEEKDAYS = ["Mon", "", "Wed", "", "Fri", "", ""];

// Monday = 0 … Sunday = 6 of an ISO date.
function weekday(iso) {
  return (new Date(`${iso}T00:00:00Z`).getUTCDay() + 6) % 7;
}

// The level of each value: 0 for none or zero, else 1–4 by the quartiles of the year.
export function levelsOf(values) {
  const known = values.filter((v) => v != null && v > 0).sort((a, b) => a - b);
  const edges = [1, 2, 3].map((q) => known[Math.floor((known.length * q) / 4)] ?? Infinity);
  return (value) => (value == null || value <= 0 ? 0 : 1 + edges.filter((edge) => value >= edge).length);
}

// days: [{ date, value }] for consecutive dates; last: the last date shown.
export function calendarSvg(days, { last, unit, label, digits = 0 }) {
  const first = addDays(last, -364);
  const byDate = new Map(days.map((d) => [d.date, d.value]));
  const level = levelsOf(days.map((d) => d.value));
  const weeks = Math.ceil((weekday(first) + 365) / 7);
  const width = LEFT + weeks * (CELL + GAP);
  const height = TOP + 7 * (CELL + GAP);
  const box = svg("svg", {
    class: "calendar", viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": "steps-calendar",
    "aria-label": `${label} per day, ${first} to ${last}`,
  });
  WEEKDAYS.forEach((name, row) => {
    if (name) box.append(svg("text", { x: 0, y: TOP + row * (CELL + GAP) + CELL - 2, text: name }));
  });
  let month = "";
  for (let index = 0; index < 365; index += 1) {
    const date = addDays(first, index);
    const column = Math.floor((weekday(first) + index) / 7);
    const x = LEFT + column * (CELL + GAP);
    if (date.slice(5, 7) !== month && weekday(date) < 4) {
      month = date.slice(5, 7);
      box.append(svg("text", { x, y: 10, text: dayLabel(date, { month: "short" }) }));
    }
    const value = byDate.get(date) ?? null;
    box.append(svg("rect", {
      class: `day level-${value == null ? "none" : level(value)}`, x, y: TOP + weekday(date) * (CELL + GAP),
      width: CELL, height: CELL, rx: 2, "data-date": date, "data-value": value ?? "",
    }, svg("title", { text: `${date}: ${value == null ? "no data" : `${num(value, digits)} ${unit}`}` })));
  }
  return box;
}

export function calendarLegend() {
  return svg("svg", { class: "calendar-legend", viewBox: `0 0 ${40 + LEVELS * 16 + 40} 14`, "aria-hidden": "true" },
    svg("text", { x: 0, y: 11, text: "less" }),
    ...Array.from({ length: LEVELS }, (_, i) => svg("rect", { class: `level-${i}`, x: 32 + i * 16, y: 1, width: 12, height: 12, rx: 2 })),
    svg("text", { x: 36 + LEVELS * 16, y: 11, text: "more" }));
}
