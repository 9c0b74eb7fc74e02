// The selected vehicle's facts under the list: speed in mph and km/h, heading, last report.

import { clock, headingText, positionText, speedText } from "./format.js";

const $ = (id) => document.getElementById(id);

export class Details {
  constructor() {
    this.section = $("details");
    this.name = $("details-name");
    this.speed = $("details-speed");
    this.heading = $("details-heading");
    this.seen = $("details-seen");
    this.position = $("details-position");
    this.trailText = $("details-trail");
  }

  show(vehicle, time) {
    if (!vehicle) {
      this.section.hidden = true;
      return;
    }
    this.section.hidden = false;
    this.name.textContent = vehicle.stale ? `${vehicle.name} (stale)` : vehicle.name;
    this.speed.textContent = speedText(vehicle);
    this.heading.textContent = headingText(vehicle.heading);
    this.seen.textContent = clock(time);
    this.position.textContent = positionText(vehicle);
  }

  trail(text) {
    this.trailText.textContent = text;
  }
}
