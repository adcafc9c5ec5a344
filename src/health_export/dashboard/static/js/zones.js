// Heart-rate zones of a workout: five bands of the maximum heart rate (50-60 %, 60-70 %,
// 70-80 %, 80-90 %, 90-100 %), the maximum being the highest heart rate recorded in the
// year up to the workout (or the workout's own, when higher or alone).

export const ZONES = [
  { key: "z1", label: "Zone 1 · easy", from: 0.5, to: 0.6 },
  { key: "z2", label: "Zone 2 · aerobic", from: 0.6, to: 0.7 },
  { key: "z3", label: "Zone 3 · tempo", from: 0.7, to: 0.8 },
  { key: "z4", label: "Zone 4 · threshold", from: 0.8, to: 0.9 },
  { key: "z5", label: "Zone 5 · maximum", from: 0.9, to: 1.0 },
];
// A gap longer than this between two readings is not counted as time in a zone.
const MAX_GAP_S = 300;

export function maxHeartRate(yearMaxima, workoutMax) {
  const known = [...yearMaxima, workoutMax].filter((v) => v != null && v > 0);
  return known.length ? Math.max(...known) : null;
}

export function zoneBounds(maxHr) {
  return ZONES.map((zone) => ({ ...zone, low: zone.from * maxHr, high: zone.to * maxHr }));
}

// Index of the zone of `bpm` (-1: below zone 1).
export function zoneOf(bpm, bounds) {
  for (let i = bounds.length - 1; i >= 0; i -= 1) if (bpm >= bounds[i].low) return i;
  return -1;
}

// Seconds in each zone: each reading counts until the next one (at most MAX_GAP_S).
// points: [{ t (seconds), value }] in time order.
export function secondsInZones(points, bounds) {
  const seconds = bounds.map(() => 0);
  let below = 0;
  for (let i = 0; i + 1 < points.length; i += 1) {
    const span = Math.min(MAX_GAP_S, points[i + 1].t - points[i].t);
    if (span <= 0) continue;
    const zone = zoneOf(points[i].value, bounds);
    if (zone < 0) below += span;
    else seconds[zone] += span;
  }
  return { seconds, below };
}
