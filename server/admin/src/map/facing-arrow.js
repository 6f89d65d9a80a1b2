// The draggable facing arrow of one zone: a line from the viewing spot (tail, a handle the user drags)
// to the zone's edge (head, with an arrowhead).
import L from "./leaflet-global.js";
import { facingFromTail, headPoint, tailPoint } from "./facing.js";
import { toLatLng, toPoint, unitVector } from "./frame.js";

// Arrowhead size as a share of the arrow, bounded so it stays visible on short arrows.
const HEAD_SHARE = 0.25;
const HEAD_MIN_M = 0.3;
const HEAD_HALF_ANGLE_DEG = 25;

const NOT_EDITABLE = { pmIgnore: true, snapIgnore: true };

function arrowheadPoints(head, facingDeg, lengthM) {
  const size = Math.max(HEAD_MIN_M, lengthM * HEAD_SHARE);
  return [-HEAD_HALF_ANGLE_DEG, HEAD_HALF_ANGLE_DEG].map((turn) => {
    const [ux, uy] = unitVector(facingDeg + 180 + turn);
    return [head[0] + ux * size, head[1] + uy * size];
  });
}

export class FacingArrow {
  // onMove({facing_deg, view_distance_m}) is called while the tail is dragged.
  constructor(map, colour, onMove) {
    this.line = L.polyline([], { ...NOT_EDITABLE, color: colour, weight: 3, interactive: false });
    this.head = L.polyline([], { ...NOT_EDITABLE, color: colour, weight: 3, interactive: false });
    this.handle = L.marker([0, 0], {
      ...NOT_EDITABLE,
      draggable: true,
      keyboard: true,
      title: "Drag to set where shoppers stand to see this zone",
      icon: L.divIcon({ className: "facing-handle", iconSize: [18, 18] }),
    });
    this.handle.on("drag", () => {
      const facing = facingFromTail(this.polygon, toPoint(this.handle.getLatLng()));
      this.drawLine(facing.facing_deg, facing.view_distance_m, false);
      onMove(facing);
    });
    this.handle.on("dragend", () => this.draw(this.polygon, this.facingDeg, this.viewDistanceM));
    this.layers = [this.line, this.head, this.handle];
    for (const layer of this.layers) layer.addTo(map);
  }

  draw(polygon, facingDeg, viewDistanceM) {
    this.polygon = polygon;
    this.drawLine(facingDeg, viewDistanceM, true);
  }

  drawLine(facingDeg, viewDistanceM, moveHandle) {
    this.facingDeg = facingDeg;
    this.viewDistanceM = viewDistanceM;
    const tail = tailPoint(this.polygon, facingDeg, viewDistanceM);
    const head = headPoint(this.polygon, facingDeg);
    this.line.setLatLngs([toLatLng(tail), toLatLng(head)]);
    const [left, right] = arrowheadPoints(head, facingDeg, viewDistanceM);
    this.head.setLatLngs([toLatLng(left), toLatLng(head), toLatLng(right)]);
    if (moveHandle) this.handle.setLatLng(toLatLng(tail));
  }

  setColour(colour) {
    this.line.setStyle({ color: colour });
    this.head.setStyle({ color: colour });
  }

  remove() {
    for (const layer of this.layers) layer.remove();
  }
}
