// How values are shown: the original's units (mph, HH:mm:ss) plus km/h and compass points.

const COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

/** A Date from the API's "2025-10-30T15:35:58.364+0000" (or any ISO 8601 form); null if bad. */
export function parseTimestamp(text) {
  if (typeof text !== "string") return null;
  const iso = text.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const pad = (n) => String(n).padStart(2, "0");

/** "15:35:58" in the viewer's time zone, like the original's `date:'HH:mm:ss'`. */
export function clock(date) {
  if (!date) return "–";
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Whole miles per hour ("–" before a vehicle's second report, when speed is null). */
export function mph(speed) {
  return Number.isFinite(speed) ? String(Math.round(speed)) : "–";
}

/** "30 mph · 48 km/h" */
export function speedText(vehicle) {
  if (!Number.isFinite(vehicle.speed)) return "speed not known yet";
  const kmh = Number.isFinite(vehicle.speed_kmh) ? vehicle.speed_kmh : vehicle.speed * 1.609344;
  return `${Math.round(vehicle.speed)} mph · ${Math.round(kmh)} km/h`;
}

/** "58° NE" */
export function headingText(heading) {
  if (!Number.isFinite(heading)) return "not known yet";
  const degrees = ((Math.round(heading) % 360) + 360) % 360;
  return `${degrees}° ${COMPASS[Math.round(degrees / 45) % 8]}`;
}

export function positionText(vehicle) {
  return `${vehicle.lat.toFixed(5)}, ${vehicle.lng.toFixed(5)}`;
}
