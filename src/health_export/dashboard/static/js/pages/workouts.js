// Workouts: the list of the range, filtered by type, each row opening its detail page.

import { getJson } from "../api.js";
import { dayLabel, el, emptyState, hoursMinutes, num } from "../dom.js";
import { pageHead, rangeQuery, zonedParams } from "../range.js";
import { convert, shownUnit } from "../units.js";

function row(workout, range) {
  const link = el("a", { href: `/workouts/${encodeURIComponent(workout.id)}${rangeQuery(range)}`, text: workout.name });
  return el("tr", { "data-testid": "workout-row", "data-type": workout.name, "data-date": workout.start.slice(0, 10), "data-value": workout.duration_s ?? "" },
    el("td", {}, link),
    el("td", { text: `${dayLabel(workout.start.slice(0, 10))} ${workout.start.slice(11, 16)}` }),
    el("td", { class: "num", text: workout.duration_s == null ? "–" : hoursMinutes(workout.duration_s / 3600) }),
    el("td", { class: "num", "data-distance": workout.distance_km == null ? null : convert(workout.distance_km, "km"), text: workout.distance_km == null ? "–" : `${num(convert(workout.distance_km, "km"), 2)} ${shownUnit("km")}` }),
    el("td", { class: "num", text: workout.active_energy_kcal == null ? "–" : `${num(workout.active_energy_kcal, 0)} kcal` }),
    el("td", { class: "num", text: workout.avg_heart_rate == null ? "–" : `${num(workout.avg_heart_rate, 0)} bpm` }),
    el("td", { text: workout.has_route ? "yes" : "" }));
}

export async function workoutsPage(range) {
  const data = await getJson("/api/v1/workouts", zonedParams(range));
  const head = pageHead("Workouts", range);
  const workouts = data.workouts.slice().reverse();
  if (!workouts.length) {
    return { nodes: [head, emptyState("No workouts yet", "Add Workouts to an automation in Health Auto Export (with routes, if you want maps), or pick a longer range.")] };
  }
  const types = [...new Set(workouts.map((w) => w.name))].sort();
  const wanted = new URLSearchParams(window.location.search).get("type") || "";
  const body = el("tbody", {}, workouts.map((w) => row(w, range)));
  const count = el("span", { class: "subtitle", "aria-live": "polite" });
  const apply = (type) => {
    let shown = 0;
    for (const tr of body.rows) {
      tr.hidden = Boolean(type) && tr.dataset.type !== type;
      if (!tr.hidden) shown += 1;
    }
    count.textContent = `${shown} workout${shown === 1 ? "" : "s"}`;
  };
  const select = el("select", {
    id: "workout-type", "data-testid": "type-filter",
    on: {
      change: () => {
        const url = new URL(window.location.href);
        if (select.value) url.searchParams.set("type", select.value); else url.searchParams.delete("type");
        window.history.replaceState(null, "", url);
        apply(select.value);
      },
    },
  }, el("option", { value: "", text: "All types" }), types.map((t) => el("option", { value: t, text: t, selected: t === wanted })));
  apply(types.includes(wanted) ? wanted : "");
  const table = el("div", { class: "table-wrap" }, el("table", { "data-testid": "workouts-table" },
    el("thead", {}, el("tr", {}, ["Workout", "Start", "Duration", "Distance", "Active energy", "Avg HR", "Route"].map((label) => el("th", { scope: "col", text: label })))),
    body));
  const notes = data.truncated ? el("p", { class: "subtitle", text: "Only the first 1,000 workouts are listed: pick a shorter range." }) : null;
  return {
    nodes: [head, el("section", { class: "panel" },
      el("div", { class: "filters" }, el("label", { for: "workout-type", text: "Type" }), select, count), table, notes)],
  };
}
