// The Leaflet map: one marker per vehicle (rotated arrow, name, speed), the selected vehicle's
// trail as a red line, and tiles that may be missing (offline: a plain background).

const L = window.L; // leaflet.js (a classic script) runs before this module
const SHEFFIELD = [53.375564, -1.506785]; // the original app's view
const INITIAL_ZOOM = 16;
const TRAIL_STYLE = { color: "red", weight: 6, opacity: 0.6, className: "vehicle-trail", interactive: false };
const TILE_ERRORS_BEFORE_GIVING_UP = 4;
const SVG = "http://www.w3.org/2000/svg";

function attributionFor(tileUrl) {
  if (tileUrl.includes("openstreetmap.org")) {
    return '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
  }
  return "Map tiles: " + new URL(tileUrl, window.location.href).host;
}

function arrowIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("vehicle-marker__arrow");
  const arrow = document.createElementNS(SVG, "path");
  arrow.setAttribute("d", "M12 2 L20 21 L12 16.5 L4 21 Z");
  arrow.classList.add("vehicle-marker__shape");
  const dot = document.createElementNS(SVG, "circle"); // no heading yet (first report)
  dot.setAttribute("cx", "12");
  dot.setAttribute("cy", "12");
  dot.setAttribute("r", "6");
  dot.classList.add("vehicle-marker__dot");
  svg.append(arrow, dot);
  return svg;
}

function markerParts(name) {
  const root = document.createElement("div");
  root.className = "vehicle-marker";
  const arrow = arrowIcon();
  const label = document.createElement("span");
  label.className = "vehicle-marker__label";
  const title = document.createElement("span");
  title.className = "vehicle-marker__name";
  title.textContent = name;
  const speed = document.createElement("span");
  speed.className = "vehicle-marker__speed";
  label.append(title, speed);
  root.append(arrow, label);
  return { root, arrow, speed };
}

const isTime = (value) => value instanceof Date && !Number.isNaN(value.getTime());

export class FleetMap {
  constructor(element, { tileUrl, tilesNote, onSelect, describe }) {
    this.map = L.map(element, { center: SHEFFIELD, zoom: INITIAL_ZOOM, maxZoom: 19 });
    this.onSelect = onSelect;
    this.describe = describe; // vehicle -> { speed, label } texts
    this.markers = new Map(); // name -> { marker, parts }
    this.trail = null;
    this.trailName = null;
    this.trailTime = null;
    this.placed = false;
    this.addTiles(tileUrl, tilesNote);
  }

  /** Tiles only if the tile server answers: one probe tile first, so an offline map costs one
   *  failed request (not a screenful) and shows a plain background with a note instead. */
  addTiles(tileUrl, tilesNote) {
    const container = this.map.getContainer();
    container.classList.add("no-tiles");
    if (!tileUrl) return;
    const giveUp = () => {
      tilesNote.hidden = false;
    };
    let probeUrl;
    try {
      probeUrl = this.tileOfCentre(tileUrl);
    } catch {
      this.addTileLayer(tileUrl, giveUp); // a template Leaflet fills itself ({apikey}, ...)
      return;
    }
    const probe = new Image();
    probe.onload = () => this.addTileLayer(tileUrl, giveUp);
    probe.onerror = giveUp;
    probe.src = probeUrl;
  }

  tileOfCentre(tileUrl) {
    const zoom = this.map.getZoom();
    const tile = this.map.project(this.map.getCenter(), zoom).divideBy(256).floor();
    return L.Util.template(tileUrl, { s: "a", z: zoom, x: tile.x, y: tile.y, r: "" });
  }

  addTileLayer(tileUrl, giveUp) {
    const container = this.map.getContainer();
    const layer = L.tileLayer(tileUrl, { maxZoom: 19, attribution: attributionFor(tileUrl) });
    let loaded = 0;
    let failed = 0;
    layer.on("tileload", () => {
      loaded += 1;
      container.classList.remove("no-tiles");
    });
    layer.on("tileerror", () => {
      failed += 1;
      if (loaded === 0 && failed >= TILE_ERRORS_BEFORE_GIVING_UP && this.map.hasLayer(layer)) {
        this.map.removeLayer(layer); // the tile server went away: stop asking
        giveUp();
      }
    });
    layer.addTo(this.map);
  }

  update(vehicles, selected) {
    for (const vehicle of vehicles) {
      let entry = this.markers.get(vehicle.name);
      if (!entry) {
        entry = this.addMarker(vehicle);
        this.markers.set(vehicle.name, entry);
      }
      this.refresh(entry, vehicle, vehicle.name === selected);
    }
    const names = new Set(vehicles.map((v) => v.name));
    for (const [name, entry] of this.markers) {
      if (!names.has(name)) {
        entry.marker.remove();
        this.markers.delete(name);
      }
    }
    if (!this.placed && vehicles.length > 0) {
      this.placed = true;
      this.showFleetIfAway(vehicles);
    }
  }

  addMarker(vehicle) {
    const parts = markerParts(vehicle.name);
    const icon = L.divIcon({ html: parts.root, className: "vehicle-icon", iconSize: [24, 24], iconAnchor: [12, 12] });
    const marker = L.marker([vehicle.lat, vehicle.lng], { icon, title: vehicle.name, keyboard: true, riseOnHover: true });
    marker.on("click", () => this.onSelect(vehicle.name));
    marker.addTo(this.map);
    return { marker, parts };
  }

  refresh({ marker, parts }, vehicle, isSelected) {
    marker.setLatLng([vehicle.lat, vehicle.lng]);
    marker.setZIndexOffset(isSelected ? 1000 : 0);
    const texts = this.describe(vehicle);
    parts.speed.textContent = texts.speed;
    const hasHeading = Number.isFinite(vehicle.heading);
    if (hasHeading) parts.arrow.style.transform = `rotate(${vehicle.heading}deg)`;
    const element = marker.getElement();
    element.setAttribute("aria-label", texts.label);
    element.dataset.vehicle = vehicle.name;
    element.dataset.lat = String(vehicle.lat);
    element.dataset.lng = String(vehicle.lng);
    parts.root.classList.toggle("has-heading", hasHeading);
    parts.root.classList.toggle("is-stale", Boolean(vehicle.stale));
    parts.root.classList.toggle("is-selected", isSelected);
  }

  /** Start on Sheffield like the original; if no vehicle is in view there, show the whole fleet. */
  showFleetIfAway(vehicles) {
    const view = this.map.getBounds();
    if (vehicles.some((v) => view.contains([v.lat, v.lng]))) return;
    const fleet = L.latLngBounds(vehicles.map((v) => [v.lat, v.lng]));
    this.map.fitBounds(fleet, { padding: [32, 32], maxZoom: INITIAL_ZOOM });
  }

  flyTo(vehicle) {
    const target = [vehicle.lat, vehicle.lng];
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      this.map.setView(target, this.map.getZoom(), { animate: false });
    } else {
      this.map.flyTo(target, this.map.getZoom(), { duration: 0.8 });
    }
  }

  /** Draw `positions` (oldest first) as the trail of `name`, replacing any other trail. */
  showTrail(name, positions) {
    this.clearTrail();
    this.trailName = name;
    this.trail = L.polyline(positions.map((p) => [p.lat, p.lng]), TRAIL_STYLE).addTo(this.map);
    const last = positions[positions.length - 1];
    this.trailTime = last ? last.time : null;
    this.markTrail();
  }

  /** Add the vehicle's newest position to its trail (as the original's addLatLng). */
  extendTrail(vehicle, time) {
    if (!this.trail || vehicle.name !== this.trailName || !isTime(time)) return;
    if (isTime(this.trailTime) && time <= this.trailTime) return;
    this.trail.addLatLng([vehicle.lat, vehicle.lng]);
    this.trailTime = time;
    this.markTrail();
  }

  clearTrail() {
    if (this.trail) this.trail.remove();
    this.trail = null;
    this.trailName = null;
    this.trailTime = null;
  }

  trailLength() {
    return this.trail ? this.trail.getLatLngs().length : 0;
  }

  markTrail() {
    const path = this.trail && this.trail.getElement();
    if (path) {
      path.dataset.vehicle = this.trailName;
      path.dataset.points = String(this.trailLength());
    }
  }
}
