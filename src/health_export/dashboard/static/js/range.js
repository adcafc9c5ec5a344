// The range every page shows: ?start=YYYY-MM-DD&end=YYYY-MM-DD (both days included),
// ?range=all, and ?tz= (default: the browser's time zone).

import { el } from "./dom.js";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const PRESETS = [
  ["7d", "7 d", 7],
  ["30d", "30 d", 30],
  ["90d", "90 d", 90],
  ["1y", "1 y", 365],
];
export const DEFAULT_DAYS = 30;

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function todayIn(zone) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date());
}

export function addDays(iso, days) {
  const day = new Date(`${iso}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

export function daysBetween(start, end) {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 864e5);
}

export function currentRange() {
  const query = new URLSearchParams(window.location.search);
  const tz = query.get("tz") || browserZone();
  const explicitTz = query.has("tz");
  if (query.get("range") === "all") return { all: true, tz, explicitTz };
  const end = query.get("end") || todayIn(tz);
  const start = query.get("start") || (DATE.test(end) ? addDays(end, 1 - DEFAULT_DAYS) : end);
  return { all: false, start, end, tz, explicitTz };
}

// The API's ranges end before their end: the page's last day is included, so add one.
// Days are the local days of the stored offsets (the phone's clock, which the daily
// rollups follow) unless the address names a zone: ?tz= regroups them by that zone, which
// reads the rows and costs a second or more for a year of minute data (bench/README.md).
export function apiParams(range) {
  const tz = range.explicitTz ? range.tz : undefined;
  if (range.all) return { tz };
  const end = DATE.test(range.end) ? addDays(range.end, 1) : range.end;
  return { start: range.start, end, tz };
}

// For routes that read a bare date as midnight of tz= (UTC without it) and read rows
// anyway (workouts, newest samples): the browser's zone always goes with the days.
export function zonedParams(range) {
  return { ...apiParams(range), tz: range.tz };
}

export function describe(range) {
  if (range.all) return "All data";
  if (!DATE.test(range.start) || !DATE.test(range.end)) return `${range.start} – ${range.end}`;
  const days = daysBetween(range.start, range.end) + 1;
  return `${range.start} – ${range.end} · ${days} day${days === 1 ? "" : "s"}`;
}

export function rangeQuery(range) {
  const query = new URLSearchParams();
  // Links keep the user an admin is looking at.
  const viewed = new URLSearchParams(window.location.search).get("user_id");
  if (viewed) query.set("user_id", viewed);
  if (range.all) query.set("range", "all");
  else {
    query.set("start", range.start);
    query.set("end", range.end);
  }
  if (range.explicitTz) query.set("tz", range.tz);
  return `?${query}`;
}

function presetRange(range, days) {
  const end = todayIn(range.tz);
  return { ...range, all: false, start: addDays(end, 1 - days), end };
}

function isPreset(range, days) {
  return !range.all && range.end === todayIn(range.tz) && daysBetween(range.start, range.end) === days - 1;
}

export function picker(range) {
  const presets = PRESETS.map(([key, label, days]) => el("a", {
    href: rangeQuery(presetRange(range, days)),
    "data-range": key,
    "aria-current": isPreset(range, days) ? "true" : null,
    text: label,
  }));
  presets.push(el("a", {
    href: rangeQuery({ ...range, all: true }), "data-range": "all",
    "aria-current": range.all ? "true" : null, text: "All",
  }));
  const start = el("input", { type: "date", name: "start", value: range.all ? "" : range.start, "aria-label": "From" });
  const end = el("input", { type: "date", name: "end", value: range.all ? "" : range.end, "aria-label": "To" });
  const form = el("form", {
    "data-testid": "custom-range",
    on: {
      submit: (event) => {
        event.preventDefault();
        if (!start.value || !end.value) return;
        window.location.search = rangeQuery({ ...range, all: false, start: start.value, end: end.value });
      },
    },
  }, start, "–", end, el("button", { type: "submit", text: "Show" }));
  return el("div", { class: "range", "data-testid": "range-picker" },
    el("div", { class: "presets", role: "group", "aria-label": "Range" }, presets), form);
}

export function pageHead(title, range) {
  return el("div", { class: "page-head" },
    el("div", {}, el("h1", { text: title }), el("p", { class: "subtitle", text: `${describe(range)} · ${range.explicitTz ? range.tz : "days as the phone recorded them"}` })),
    picker(range));
}

// Nav links keep the range, so moving between pages shows the same days.
export function keepRangeInLinks(range) {
  for (const link of document.querySelectorAll("a[data-nav]")) {
    link.href = `${new URL(link.href).pathname}${rangeQuery(range)}`;
  }
}

// The UTC offset of `zone` at `epochMs`, in minutes ("GMT-05:00" → -300).
function offsetMinutes(zone, epochMs) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(new Date(epochMs)).find((part) => part.type === "timeZoneName").value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

function pad(n) {
  return String(Math.floor(Math.abs(n))).padStart(2, "0");
}

// Local midnight of `iso` in `zone` as a date-time with its offset (2024-03-01T00:00:00-05:00).
export function zoneMidnight(iso, zone) {
  const wall = Date.parse(`${iso}T00:00:00Z`);
  let offset = offsetMinutes(zone, wall);
  offset = offsetMinutes(zone, wall - offset * 60000);
  const sign = offset < 0 ? "-" : "+";
  return `${iso}T00:00:00${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// For routes that read a bare date as UTC midnight (records): the range's local days as
// instants, so a page shows the same days whatever the route's convention.
export function instantParams(range) {
  if (range.all || !DATE.test(range.start) || !DATE.test(range.end)) return range.all ? {} : { start: range.start, end: range.end };
  return { start: zoneMidnight(range.start, range.tz), end: zoneMidnight(addDays(range.end, 1), range.tz) };
}
