// The gateway's REST API, through our nginx's /api/. Every call carries a fresh traceparent.

import { newTraceparent } from "./traceparent.js";

const TIMEOUT_MS = 8000; // below nginx's 10 s proxy_read_timeout

/** Why a call failed: the network (no answer) or an HTTP error status (with the problem's detail). */
export class ApiError extends Error {
  constructor(message, { status = null, path = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.path = path;
  }

  /** The API is down or broken (as opposed to a 4xx about this one request). */
  get unreachable() {
    return this.status === null || this.status >= 500;
  }
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || response.statusText;
  } catch {
    return response.statusText;
  }
}

export async function getJson(path) {
  let response;
  try {
    response = await fetch(path, {
      headers: { Accept: "application/json", traceparent: newTraceparent() },
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const why = error.name === "TimeoutError" ? "no answer in time" : "network error";
    throw new ApiError(why, { path });
  }
  if (!response.ok) {
    throw new ApiError(await problemDetail(response), { status: response.status, path });
  }
  return response.json();
}

/** The latest position of every vehicle. */
export function listVehicles() {
  return getJson("/api/vehicles");
}

/** A vehicle's recent positions, oldest first (the API answers newest first). */
export async function vehicleHistory(name, limit) {
  const body = await getJson(`/api/vehicles/${encodeURIComponent(name)}/history?limit=${limit}`);
  return body.positions.slice().reverse();
}
