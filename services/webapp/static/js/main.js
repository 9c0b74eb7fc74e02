// The live fleet page: polls the gateway (through nginx) every 2 s and keeps the map, the list
// and the selected vehicle's trail up to date; a banner says when the API cannot be reached.

import { listVehicles, vehicleHistory } from "./api.js";
import { Details } from "./details.js";
import { FleetMap } from "./fleet-map.js";
import { clock, headingText, mph, parseTimestamp, speedText } from "./format.js";
import { startPolling } from "./poller.js";
import { VehicleList } from "./vehicle-list.js";

const POLL_INTERVAL_MS = 2000;
const MAX_RETRY_DELAY_MS = 10000;
const TRAIL_POSITIONS = 300; // about five minutes at the simulator's pace

const $ = (id) => document.getElementById(id);

async function loadConfig() {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // no settings: no tiles, the map still works
  }
  return { tileUrl: "" };
}

function describe(vehicle) {
  const time = parseTimestamp(vehicle.timestamp);
  const speed = Number.isFinite(vehicle.speed) ? `${mph(vehicle.speed)} mph` : "";
  const parts = [vehicle.name, speedText(vehicle), `heading ${headingText(vehicle.heading)}`];
  if (vehicle.stale) parts.push("stale: no recent report");
  return {
    speed,
    mph: mph(vehicle.speed),
    seen: clock(time),
    seenTitle: time ? time.toString() : "",
    label: parts.join(", "),
  };
}

const config = await loadConfig();
const state = { vehicles: new Map(), selected: null, online: null, trailRequest: 0 };
const details = new Details();
const fleetMap = new FleetMap($("map"), {
  tileUrl: config.tileUrl || "",
  tilesNote: $("tiles-note"),
  onSelect: select,
  describe,
});
const list = new VehicleList($("vehicle-rows"), {
  onSelect: select,
  count: $("vehicle-count"),
  empty: $("no-vehicles"),
  describe,
});

function render() {
  const vehicles = [...state.vehicles.values()];
  list.update(vehicles, state.selected);
  fleetMap.update(vehicles, state.selected);
  const chosen = state.vehicles.get(state.selected);
  details.show(chosen, chosen && parseTimestamp(chosen.timestamp));
  if (chosen && fleetMap.trailName === chosen.name) {
    details.trail(`${fleetMap.trailLength()} positions (red line)`);
  }
}

/** Select a vehicle (fly to it, draw its trail), or deselect it when it is already selected. */
function select(name) {
  if (state.selected === name) {
    state.selected = null;
    state.trailRequest += 1;
    fleetMap.clearTrail();
    render();
    return;
  }
  state.selected = name;
  fleetMap.clearTrail();
  render();
  const vehicle = state.vehicles.get(name);
  if (vehicle) fleetMap.flyTo(vehicle);
  loadTrail(name);
}

async function loadTrail(name) {
  const request = ++state.trailRequest;
  details.trail("loading…");
  let positions;
  try {
    positions = await vehicleHistory(name, TRAIL_POSITIONS);
  } catch (error) {
    if (request === state.trailRequest) details.trail(`not available (${error.message})`);
    return;
  }
  if (request !== state.trailRequest) return; // another vehicle was chosen meanwhile
  const points = positions.map((p) => ({ lat: p.lat, lng: p.lng, time: parseTimestamp(p.timestamp) }));
  fleetMap.showTrail(name, points);
  const latest = state.vehicles.get(name);
  if (latest) fleetMap.extendTrail(latest, parseTimestamp(latest.timestamp));
  render();
}

function setOnline(online, message) {
  document.body.dataset.api = online ? "up" : "down";
  $("api-banner").hidden = online;
  if (!online) $("api-banner-text").textContent = message;
}

function onVehicles(vehicles) {
  state.vehicles = new Map(vehicles.map((v) => [v.name, v]));
  const chosen = state.vehicles.get(state.selected);
  if (chosen) fleetMap.extendTrail(chosen, parseTimestamp(chosen.timestamp));
  const recovered = state.online === false;
  state.online = true;
  setOnline(true);
  $("live-status").textContent = `Live · updated ${clock(new Date())}`;
  render();
  if (recovered && state.selected) loadTrail(state.selected); // fill the gap of the outage
}

function onFailure(error, { retryInMs }) {
  state.online = false;
  const what = error.status ? `HTTP ${error.status}: ${error.message}` : error.message;
  const seconds = Math.round(retryInMs / 1000);
  const problem = error.unreachable
    ? "The fleet API cannot be reached"
    : "The fleet API refused the request";
  setOnline(false, `${problem} (${what}). Showing the last known positions; retrying in ${seconds} s.`);
  $("live-status").textContent = "Offline";
}

const poller = startPolling({
  task: listVehicles,
  intervalMs: POLL_INTERVAL_MS,
  maxDelayMs: MAX_RETRY_DELAY_MS,
  onSuccess: onVehicles,
  onFailure,
});
$("api-banner-retry").addEventListener("click", () => poller.now());
