// Units as the person prefers: metric or US, chosen in the header and kept in this
// browser (localStorage). The API answers in canonical metric units (km, kg, cm, °C, m);
// a US choice shows miles, pounds, inches, °F and feet, converted by the factors of the
// server's catalogue (catalog/units.py), so `?unit=` of the API gives the same numbers.

const KEY = "health-export.units";
const US_UNITS = {
  km: ["mi", (v) => (v * 1000) / 1609.344],
  kg: ["lb", (v) => (v * 1000) / 453.59237],
  cm: ["in", (v) => v / 2.54],
  degC: ["degF", (v) => (v * 9) / 5 + 32],
  m: ["ft", (v) => v / 0.3048],
};
const LABELS = { degC: "°C", degF: "°F", "count/min": "bpm" };
let chosen = null;

export function unitSystem() {
  if (chosen) return chosen;
  let saved = null;
  try {
    saved = window.localStorage.getItem(KEY);
  } catch {
    // Storage refused (private mode): metric, or this page's choice.
  }
  // Metric until chosen otherwise: the units the API answers in.
  return saved === "us" ? "us" : "metric";
}

export function setUnitSystem(system) {
  chosen = system;
  try {
    window.localStorage.setItem(KEY, system);
  } catch {
    // Not kept: this page still shows the choice.
  }
}

// The unit a canonical unit is shown in.
export function shownUnit(canonical) {
  return unitSystem() === "us" && US_UNITS[canonical] ? US_UNITS[canonical][0] : canonical;
}

// A value of `canonical` in the shown unit (null stays null).
export function convert(value, canonical) {
  if (value === null || value === undefined) return value;
  return unitSystem() === "us" && US_UNITS[canonical] ? US_UNITS[canonical][1](value) : value;
}

// A change (a difference) converts without the temperature's offset.
export function convertChange(value, canonical) {
  if (value === null || value === undefined) return value;
  return canonical === "degC" && unitSystem() === "us" ? (value * 9) / 5 : convert(value, canonical);
}

// The `unit` query parameter of the API for the shown unit (undefined: canonical).
export function apiUnit(canonical) {
  const shown = shownUnit(canonical);
  return shown === canonical ? undefined : shown;
}

export function unitLabel(unit) {
  return LABELS[unit] ?? unit;
}
