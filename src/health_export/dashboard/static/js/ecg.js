// The ECG strip on standard ECG paper: 25 mm/s and 10 mm/mV, so 1 mm is 0.04 s across
// and 0.1 mV up; a big square every 5 mm (0.2 s, 0.5 mV). The SVG's units are
// millimetres, so the paper keeps its proportions at any width.

import { svg } from "./dom.js";

export const MM_PER_S = 25;
export const MM_PER_MV = 10;
export const BIG_SQUARE_MM = 5;
const ROW_SECONDS = 10;
// A 1 mV, 0.2 s calibration pulse starts each row, as on printed ECGs.
const CALIBRATION_MM = 10;

function gridPath(width, height, step) {
  const lines = [];
  for (let x = 0; x <= width + 1e-9; x += step) lines.push(`M${x.toFixed(2)} 0V${height}`);
  for (let y = 0; y <= height + 1e-9; y += step) lines.push(`M0 ${y.toFixed(2)}H${width}`);
  return lines.join("");
}

// Rows tall enough for the recording's lowest and highest voltage, in whole big squares.
function rowLayout(voltagesUv) {
  let low = 0;
  let high = 1000; // the calibration pulse reaches 1 mV
  for (const v of voltagesUv) { if (v < low) low = v; if (v > high) high = v; }
  const lowMm = Math.ceil((-low / 1000) * MM_PER_MV / BIG_SQUARE_MM) * BIG_SQUARE_MM + BIG_SQUARE_MM;
  const highMm = Math.ceil((high / 1000) * MM_PER_MV / BIG_SQUARE_MM) * BIG_SQUARE_MM + BIG_SQUARE_MM;
  return { height: lowMm + highMm, baseline: highMm };
}

export function ecgStrip(recording) {
  const voltages = recording.voltages_uv;
  const hz = recording.sampling_frequency_hz || 512;
  const seconds = voltages.length / hz;
  const rows = Math.max(1, Math.ceil(seconds / ROW_SECONDS));
  const rowWidth = CALIBRATION_MM + ROW_SECONDS * MM_PER_S;
  const { height: rowHeight, baseline } = rowLayout(voltages);
  const height = rows * rowHeight;
  const box = svg("svg", {
    class: "ecg", viewBox: `0 0 ${rowWidth} ${height}`, role: "img", "data-testid": "ecg-strip",
    "data-samples": voltages.length, "data-hz": hz, "data-mm-per-s": MM_PER_S, "data-mm-per-mv": MM_PER_MV,
    "data-row-seconds": ROW_SECONDS, "data-row-height-mm": rowHeight, "data-calibration-mm": CALIBRATION_MM,
    "aria-label": `ECG of ${seconds.toFixed(1)} s at 25 mm/s and 10 mm/mV`,
  });
  box.append(svg("rect", { class: "paper", x: 0, y: 0, width: rowWidth, height }),
    svg("path", { class: "grid-small", d: gridPath(rowWidth, height, 1) }),
    svg("path", { class: "grid-big", d: gridPath(rowWidth, height, BIG_SQUARE_MM) }));
  for (let row = 0; row < rows; row += 1) {
    const zero = row * rowHeight + baseline;
    box.append(svg("path", { class: "calibration", d: `M0 ${zero}H2.5V${zero - MM_PER_MV}H${2.5 + 0.2 * MM_PER_S}V${zero}H${CALIBRATION_MM}` }));
    const first = Math.round(row * ROW_SECONDS * hz);
    const last = Math.min(voltages.length, Math.round((row + 1) * ROW_SECONDS * hz));
    const points = [];
    for (let i = first; i < last; i += 1) {
      const x = CALIBRATION_MM + ((i - first) / hz) * MM_PER_S;
      const y = zero - (voltages[i] / 1000) * MM_PER_MV;
      points.push(`${x.toFixed(3)},${y.toFixed(3)}`);
    }
    box.append(svg("polyline", { class: "trace", "data-row": row, "data-first": first, points: points.join(" ") }));
  }
  return box;
}
