// Shoppers seen live: a dot, a heading arrow and an accuracy circle each, from messages
// {shopper: anonymous id, x, y, heading_deg, accuracy_m} in metres. Shoppers not heard from for a
// while fade out: their phone left or stopped streaming.
import L from "./leaflet-global.js";
import { toLatLng, unitVector } from "./frame.js";

// The heading arrow is drawn this long: about a stride, visible at store zoom.
export const HEADING_ARROW_M = 1.5;
// A shopper silent for this long is dropped from the map (positions arrive about once a second).
export const STALE_AFTER_MS = 10_000;

const NOT_EDITABLE = { pmIgnore: true, snapIgnore: true, interactive: false };

const SHOPPER_COLOUR = "#1b5e20";
const SHOPPER_PANE = "shoppers";

export class LiveLayer {
  // renderer "svg" (one element per shape: styleable, testable) or "canvas" (one bitmap: cheaper
  // when thousands of shoppers move at once; benchmarks/admin_live_layer.py compares them).
  constructor(map, { renderer = "svg" } = {}) {
    // Shoppers are drawn above zone labels (tooltip pane, z 650) so a name never hides a dot.
    const pane = map.getPane(SHOPPER_PANE) ?? map.createPane(SHOPPER_PANE);
    pane.style.zIndex = "660";
    pane.style.pointerEvents = "none";
    this.renderer =
      renderer === "canvas" ? L.canvas({ pane: SHOPPER_PANE }) : L.svg({ pane: SHOPPER_PANE });
    this.group = L.layerGroup().addTo(map);
    this.shoppers = new Map(); // shopper → {dot, arrow, circle, seenMs}
  }

  get count() {
    return this.shoppers.size;
  }

  // now_ms is passed in so staleness is testable; the page passes Date.now().
  update({ shopper, x, y, heading_deg, accuracy_m }, nowMs) {
    let drawn = this.shoppers.get(shopper);
    if (!drawn) {
      drawn = {
        circle: L.circle([0, 0], {
          ...NOT_EDITABLE,
          renderer: this.renderer,
          radius: 1,
          color: SHOPPER_COLOUR,
          weight: 1,
          fillOpacity: 0.1,
          className: "shopper-accuracy",
        }),
        arrow: L.polyline([], {
          ...NOT_EDITABLE,
          renderer: this.renderer,
          color: SHOPPER_COLOUR,
          weight: 2,
          className: "shopper-heading",
        }),
        dot: L.circleMarker([0, 0], {
          ...NOT_EDITABLE,
          renderer: this.renderer,
          radius: 5,
          color: "#ffffff",
          weight: 2,
          fillColor: SHOPPER_COLOUR,
          fillOpacity: 1,
          className: "shopper-dot",
        }),
      };
      for (const layer of [drawn.circle, drawn.arrow, drawn.dot]) layer.addTo(this.group);
      drawn.dot.getElement()?.setAttribute("data-shopper", shopper);
      this.shoppers.set(shopper, drawn);
    }
    const [ux, uy] = unitVector(heading_deg);
    drawn.dot.setLatLng(toLatLng([x, y]));
    drawn.circle.setLatLng(toLatLng([x, y])).setRadius(Math.max(accuracy_m, 0));
    drawn.arrow.setLatLngs([
      toLatLng([x, y]),
      toLatLng([x + ux * HEADING_ARROW_M, y + uy * HEADING_ARROW_M]),
    ]);
    drawn.seenMs = nowMs;
  }

  dropStale(nowMs) {
    for (const [shopper, drawn] of this.shoppers) {
      if (nowMs - drawn.seenMs <= STALE_AFTER_MS) continue;
      for (const layer of [drawn.circle, drawn.arrow, drawn.dot]) layer.remove();
      this.shoppers.delete(shopper);
    }
  }

  clear() {
    this.group.clearLayers();
    this.shoppers.clear();
  }
}
