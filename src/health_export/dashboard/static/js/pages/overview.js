// Overview: a card per key number (latest, mean and change against the period before,
// sparkline, typical range), each with its table of daily values.

import { getJson } from "../api.js";
import { dayLabel, el, emptyState, hoursMinutes, num, svg } from "../dom.js";
import { apiParams, pageHead } from "../range.js";
import { sparkline } from "../charts.js";
import { dataTable } from "../tables.js";
import { convert, convertChange, shownUnit } from "../units.js";

const DIGITS = { steps: 0, active_energy: 0, exercise: 0, stand: 0, resting_hr: 0, hrv: 0, sleep: 1, weight: 1 };
const UNITS = { count: "", kcal: "kcal", min: "min", h: "h", "count/min": "bpm", ms: "ms", kg: "kg", lb: "lb" };

function show(card, value) {
  return card.key === "sleep" ? hoursMinutes(value) : num(value, DIGITS[card.key] ?? 1);
}

function changeText(card, range) {
  if (card.change === null) return range.all ? "" : "no earlier period to compare";
  const sign = card.change > 0 ? "+" : card.change < 0 ? "−" : "±";
  const amount = card.key === "sleep" ? hoursMinutes(Math.abs(card.change)) : num(Math.abs(card.change), DIGITS[card.key]);
  const pct = card.change_pct === null ? "" : ` (${sign}${num(Math.abs(card.change_pct), 0)} %)`;
  return `${sign}${amount}${pct} vs previous period`;
}

function cardView(card, range) {
  const unit = UNITS[card.unit] ?? card.unit;
  const article = el("article", { class: "panel card", "data-testid": `card-${card.key}` }, el("h2", { text: card.label }));
  if (!card.latest) {
    article.append(el("p", { class: "empty", text: `No data in this range: add ${card.hae_name} to an automation in Health Auto Export.` }));
    return article;
  }
  const direction = card.change > 0 ? "up" : card.change < 0 ? "down" : "";
  const isSleep = card.key === "sleep";
  article.append(
    el("div", { class: "value", "data-testid": "latest" }, show(card, card.latest.value), isSleep ? null : el("span", { class: "unit", text: unit })),
    el("p", { class: "meta", text: `${isSleep ? "Night to" : "On"} ${dayLabel(card.latest.date)}` }),
    el("p", { class: "meta" }, `Mean ${show(card, card.mean)}${isSleep ? "" : ` ${unit}`}`, " · ",
      el("span", { class: `change ${direction}`, text: changeText(card, range) })),
    card.typical ? el("p", { class: "meta", text: `Typical ${show(card, card.typical.low)}–${show(card, card.typical.high)}${isSleep ? "" : ` ${unit}`}` }) : null,
    sparkline(card.days.map((d) => d.value), card.typical),
    dataTable({
      caption: `${card.label} per day`,
      testid: `table-${card.key}`,
      columns: [
        { label: "Day", cell: (row) => row.date },
        { label: `${card.label}${unit ? ` (${unit})` : ""}`, num: true, cell: (row) => show(card, row.value) },
      ],
      rows: card.days,
    }),
  );
  return article;
}

// [key, label, unit, digits]; colours by class (the CSP allows no inline style).
const RINGS = [
  ["move", "Move", "kcal", 0],
  ["exercise", "Exercise", "min", 0],
  ["stand", "Stand", "h", 0],
];

// Three concentric arcs (stroke-dasharray); a ring without a goal is drawn as its track only.
function ringsSvg(rings) {
  const box = svg("svg", { class: "rings", viewBox: "0 0 120 120", role: "img", "data-testid": "rings", "aria-label": "Activity rings" });
  RINGS.forEach(([key], index) => {
    const radius = 50 - index * 14;
    const length = 2 * Math.PI * radius;
    const fraction = Math.min(1, rings[key].fraction ?? 0);
    box.append(svg("circle", { class: `ring-track ring-${key}`, cx: 60, cy: 60, r: radius }));
    if (fraction > 0) {
      box.append(svg("circle", {
        class: `ring-arc ring-${key}`, cx: 60, cy: 60, r: radius, "data-ring": key,
        "stroke-dasharray": `${(fraction * length).toFixed(2)} ${length.toFixed(2)}`,
        transform: "rotate(-90 60 60)",
      }));
    }
  });
  return box;
}

function goalText(ring, unit) {
  if (ring.goal === null) return "no goal known: import an Apple Health archive to see yours";
  const from = ring.goal_from === "archive" ? "your goal" : "Apple's usual goal";
  return `of ${num(ring.goal, 0)} ${unit} (${from})`;
}

function ringsPanel(rings) {
  return el("section", { class: "panel rings-panel", "aria-label": "Activity rings", "data-testid": "rings-panel" },
    el("h2", { text: `Activity rings · ${dayLabel(rings.date)}` }),
    el("div", { class: "rings-wrap" }, ringsSvg(rings),
      el("ul", { class: "ring-list" }, RINGS.map(([key, label, unit, digits]) => el("li", { class: `ring-${key}` },
        el("strong", { text: `${label}: ${num(rings[key].value, digits)} ${unit}` }), " ",
        el("span", { class: "subtitle", text: goalText(rings[key], unit) }),
        rings[key].fraction === null ? null : el("span", { class: "pct", text: ` · ${num(rings[key].fraction * 100, 0)} %` }))))),
    dataTable({
      caption: "Activity rings",
      testid: "rings-table",
      rowAttrs: (row) => ({ "data-ring": row.key, "data-goal": row.goal ?? "" }),
      columns: [
        { label: "Ring", cell: (r) => r.label },
        { label: "Value", num: true, cell: (r) => `${num(r.value, 0)} ${r.unit}` },
        { label: "Goal", num: true, cell: (r) => (r.goal === null ? "–" : `${num(r.goal, 0)} ${r.unit}`) },
        { label: "Goal from", cell: (r) => r.goal_from || "–" },
      ],
      rows: RINGS.map(([key, label, unit]) => ({ ...rings[key], key, label, unit, date: rings.date })),
    }));
}

// A card's numbers in the unit the person reads (weight in kg or lb).
function inShownUnit(card) {
  const to = shownUnit(card.unit);
  if (to === card.unit) return card;
  const day = (d) => (d ? { ...d, value: convert(d.value, card.unit) } : d);
  const range = (t) => (t ? { low: convert(t.low, card.unit), high: convert(t.high, card.unit) } : t);
  return {
    ...card, unit: to, latest: day(card.latest), mean: convert(card.mean, card.unit),
    previous_mean: convert(card.previous_mean, card.unit), change: convertChange(card.change, card.unit),
    typical: range(card.typical), days: card.days.map(day),
  };
}

export async function overviewPage(range) {
  const answer = await getJson("/api/v1/overview", apiParams(range));
  const data = { ...answer, cards: answer.cards.map(inShownUnit) };
  const head = pageHead("Overview", range);
  if (data.cards.every((card) => !card.latest)) {
    return {
      nodes: [head, emptyState("Nothing here yet",
        "No health data in this range. Create an automation in Health Auto Export that posts to /api/v1/ingest (see the README), or pick a longer range.")],
    };
  }
  return {
    nodes: [head, data.rings ? ringsPanel(data.rings) : null,
      el("section", { class: "grid", "aria-label": "Key numbers" }, data.cards.map((card) => cardView(card, range)))].filter(Boolean),
  };
}
