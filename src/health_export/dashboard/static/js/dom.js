// Small DOM builders: every text goes in as text, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function el(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const numberFormats = new Map();
export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat(undefined, {
      maximumFractionDigits: digits, minimumFractionDigits: digits,
    }));
  }
  return numberFormats.get(digits).format(value);
}

export function hoursMinutes(hours) {
  if (hours === null || hours === undefined) return "–";
  const total = Math.round(hours * 60);
  return `${Math.floor(total / 60)} h ${String(total % 60).padStart(2, "0")} min`;
}

export function dayLabel(iso, options = { weekday: "short", day: "numeric", month: "short" }) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

// A time as the sender's own clock showed it ("2024-03-14T23:05:00-04:00" → "23:05").
export function clockOf(isoDateTime) {
  if (!isoDateTime) return "–";
  return isoDateTime.slice(11, 16);
}

export function emptyState(title, text) {
  return el("div", { class: "panel empty-state", "data-testid": "empty-state" },
    el("strong", { text: title }), el("p", { text }));
}

export function errorState(error) {
  const status = error.status ? ` (HTTP ${error.status})` : "";
  return el("div", { class: "panel empty-state error", role: "alert", "data-testid": "error" },
    el("strong", { text: "Something went wrong" }),
    el("p", { text: `${error.message || "unknown error"}${status}` }));
}
