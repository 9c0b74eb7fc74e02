// The vehicle table beside the map: Name, Last seen, Speed (mph), as the original; rows sorted
// by name and updated in place; the name is a button that selects (or deselects) the vehicle.

export class VehicleList {
  constructor(tbody, { onSelect, count, empty, describe }) {
    this.tbody = tbody;
    this.onSelect = onSelect;
    this.count = count;
    this.empty = empty;
    this.describe = describe; // vehicle -> { seen, seenTitle, mph, label }
    this.rows = new Map(); // name -> { row, button, badge, seen, speed }
  }

  update(vehicles, selected) {
    const sorted = [...vehicles].sort((a, b) => a.name.localeCompare(b.name));
    sorted.forEach((vehicle, index) => {
      let entry = this.rows.get(vehicle.name);
      if (!entry) {
        entry = this.addRow(vehicle.name);
        this.rows.set(vehicle.name, entry);
      }
      if (this.tbody.children[index] !== entry.row) {
        this.tbody.insertBefore(entry.row, this.tbody.children[index] || null);
      }
      this.fill(entry, vehicle, vehicle.name === selected);
    });
    const names = new Set(sorted.map((v) => v.name));
    for (const [name, entry] of this.rows) {
      if (!names.has(name)) {
        entry.row.remove();
        this.rows.delete(name);
      }
    }
    this.count.textContent = `(${sorted.length})`;
    this.empty.hidden = sorted.length > 0;
  }

  addRow(name) {
    const row = document.createElement("tr");
    row.dataset.vehicle = name;
    const head = document.createElement("th");
    head.scope = "row";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "vehicle-button";
    button.textContent = name;
    button.addEventListener("click", () => this.onSelect(name));
    const badge = document.createElement("span");
    badge.className = "badge badge--stale";
    badge.textContent = "stale";
    badge.hidden = true;
    head.append(button, badge);
    const seen = document.createElement("td");
    seen.className = "seen";
    const speed = document.createElement("td");
    speed.className = "num speed";
    row.append(head, seen, speed);
    return { row, button, badge, seen, speed };
  }

  fill(entry, vehicle, isSelected) {
    const texts = this.describe(vehicle);
    entry.seen.textContent = texts.seen;
    entry.seen.title = texts.seenTitle;
    entry.speed.textContent = texts.mph;
    entry.badge.hidden = !vehicle.stale;
    entry.button.setAttribute("aria-pressed", String(isSelected));
    entry.button.setAttribute("aria-label", texts.label);
    entry.row.classList.toggle("is-selected", isSelected);
    entry.row.classList.toggle("is-stale", Boolean(vehicle.stale));
  }
}
