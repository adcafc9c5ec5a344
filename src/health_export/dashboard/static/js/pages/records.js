// Records: ECG recordings drawn on ECG paper, symptoms, state of mind, medications and
// cycle tracking, as logged (localised names as sent).

import { getJson } from "../api.js";
import { dayLabel, el, emptyState, num } from "../dom.js";
import { ecgStrip } from "../ecg.js";
import { instantParams, pageHead } from "../range.js";
import { dataTable } from "../tables.js";

const when = (r) => `${r.start.slice(0, 10)} ${r.start.slice(11, 16)}`;
const list = (values) => (values && values.length ? values.join(", ") : "–");

const LISTS = [
  {
    path: "/api/v1/symptoms", title: "Symptoms", testid: "symptoms-table", hint: "Symptoms",
    columns: [["When", when], ["Symptom", (r) => r.name], ["Severity", (r) => r.severity || "–"], ["Source", (r) => r.source]],
    value: (r) => r.name,
  },
  {
    path: "/api/v1/state-of-mind", title: "State of mind", testid: "state-of-mind-table", hint: "State of Mind",
    columns: [["When", when], ["Kind", (r) => (r.kind || "–").replaceAll("_", " ")], ["Valence", (r) => num(r.valence, 2), true],
      ["Feeling", (r) => String(r.valence_classification ?? "–").replaceAll("_", " ")], ["Labels", (r) => list(r.labels)], ["Associations", (r) => list(r.associations)]],
    value: (r) => r.valence,
  },
  {
    path: "/api/v1/medications", title: "Medications", testid: "medications-table", hint: "Medications",
    columns: [["When", when], ["Medication", (r) => r.nickname ? `${r.display_text} (${r.nickname})` : r.display_text],
      ["Dose", (r) => (r.dosage == null ? "–" : `${num(r.dosage, 1)} ${r.units || ""}`.trim()), true], ["Status", (r) => r.status || "–"]],
    value: (r) => r.dosage,
  },
  {
    path: "/api/v1/cycle-tracking", title: "Cycle tracking", testid: "cycle-tracking-table", hint: "Cycle Tracking",
    columns: [["When", when], ["Event", (r) => r.name], ["Value", (r) => r.value || "–"], ["Cycle start", (r) => (r.is_cycle_start ? "yes" : "")]],
    value: (r) => r.value,
  },
];

function listPanel(spec, answer) {
  const section = el("section", { class: "panel", "aria-label": spec.title }, el("h2", { text: spec.title }));
  if (!answer.items.length) {
    section.append(el("p", { class: "subtitle", text: `No ${spec.title.toLowerCase()} in this range: add ${spec.hint} to an automation in Health Auto Export.` }));
    return section;
  }
  section.append(dataTable({
    caption: spec.title, testid: spec.testid, visible: true,
    columns: spec.columns.map(([label, cell, isNum]) => ({ label, cell, num: isNum })),
    rows: answer.items.slice().reverse().map((item) => ({ ...item, date: item.start, value: spec.value(item) })),
  }));
  if (answer.truncated) section.append(el("p", { class: "subtitle", text: "Only the first 1,000 are listed: pick a shorter range." }));
  return section;
}

function ecgSummary(recording) {
  const items = [
    ["Classification", recording.classification || "–"],
    ["Average heart rate", recording.average_heart_rate == null ? "–" : `${num(recording.average_heart_rate, 0)} bpm`],
    ["Duration", `${num(recording.voltages_uv.length / (recording.sampling_frequency_hz || 512), 1)} s`],
    ["Sampling", `${num(recording.sampling_frequency_hz, 0)} Hz`],
    ["Source", recording.source],
  ];
  return el("dl", { class: "stats", "data-testid": "ecg-summary" }, items.map(([label, value]) => el("div", {}, el("dt", { text: label }), el("dd", { text: value }))));
}

async function ecgView(summary) {
  const recording = await getJson(`/api/v1/ecg/${encodeURIComponent(summary.id)}`);
  return [
    el("h3", { text: `${dayLabel(recording.start.slice(0, 10))} · ${recording.start.slice(11, 16)}` }),
    ecgSummary(recording),
    el("div", { class: "ecg-wrap" }, ecgStrip(recording)),
    el("p", { class: "subtitle", text: "25 mm/s, 10 mm/mV: a small square is 0.04 s by 0.1 mV, a big one 0.2 s by 0.5 mV; each row opens with a 1 mV calibration pulse." }),
  ];
}

async function ecgPanel(answer) {
  const section = el("section", { class: "panel", "aria-label": "ECG" }, el("h2", { text: "ECG" }));
  if (!answer.items.length) {
    section.append(el("p", { class: "subtitle", text: "No ECG in this range: record one with the ECG app on the Watch and add ECG to an automation in Health Auto Export." }));
    return section;
  }
  const recordings = answer.items.slice().reverse();
  const view = el("div", { "data-testid": "ecg-view" }, ...(await ecgView(recordings[0])));
  const open = async (recording) => {
    delete document.body.dataset.ready;
    view.replaceChildren(...(await ecgView(recording)));
    document.body.dataset.ready = "true";
  };
  section.append(view, dataTable({
    caption: "ECG recordings", testid: "ecg-table", visible: true,
    columns: [
      { label: "When", cell: when },
      { label: "Classification", cell: (r) => r.classification || "–" },
      { label: "Avg HR (bpm)", num: true, cell: (r) => num(r.average_heart_rate, 0) },
      { label: "Strip", cell: () => "" },
    ],
    rows: recordings.map((r) => ({ ...r, date: r.start, value: r.average_heart_rate })),
  }));
  section.querySelectorAll("[data-testid=ecg-table] tbody tr").forEach((tr, index) => {
    const button = el("button", { type: "button", "data-testid": "ecg-open", text: "Show", on: { click: () => open(recordings[index]) } });
    tr.lastElementChild.append(button);
  });
  return section;
}

export async function recordsPage(range) {
  const params = instantParams(range);
  const [ecg, ...lists] = await Promise.all([
    getJson("/api/v1/ecg", params),
    ...LISTS.map((spec) => getJson(spec.path, params)),
  ]);
  const head = pageHead("Records", range);
  if (!ecg.items.length && lists.every((answer) => !answer.items.length)) {
    return { nodes: [head, emptyState("No records yet", "Add ECG, Symptoms, State of Mind, Medications and Cycle Tracking to an automation in Health Auto Export, or pick a longer range.")] };
  }
  return { nodes: [head, await ecgPanel(ecg), ...LISTS.map((spec, index) => listPanel(spec, lists[index]))] };
}
