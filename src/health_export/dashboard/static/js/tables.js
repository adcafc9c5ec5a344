// Every chart carries its numbers: a table of the plotted values, hidden from the eye
// (not from screen readers) until "Show data" is pressed.

import { el } from "./dom.js";

let tableCount = 0;

// columns: [{ label, num?, cell: row => text }]; rows: [{ date, value, attrs?, ... }]
export function dataTable({ caption, testid, columns, rows, rowAttrs, visible = false }) {
  const id = `data-table-${++tableCount}`;
  const body = rows.map((row) => el("tr", {
    "data-date": row.date,
    "data-value": row.value ?? "",
    ...(rowAttrs ? rowAttrs(row) : {}),
  }, columns.map((column) => el("td", { class: column.num ? "num" : null, text: column.cell(row) }))));
  const table = el("table", { "data-testid": testid },
    el("caption", { class: "sr-only", text: caption }),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.label })))),
    el("tbody", {}, body));
  const wrap = el("div", { class: visible ? "table-wrap" : "table-wrap sr-only", id }, table);
  if (visible) return wrap;
  const toggle = el("button", {
    type: "button", class: "data-toggle", "aria-controls": id, "aria-expanded": "false", text: "Show data",
    on: {
      click: () => {
        const shown = wrap.classList.toggle("sr-only") === false;
        toggle.setAttribute("aria-expanded", String(shown));
        toggle.textContent = shown ? "Hide data" : "Show data";
      },
    },
  });
  return el("div", {}, toggle, wrap);
}
