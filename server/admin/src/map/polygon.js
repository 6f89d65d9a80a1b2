// Plane geometry of zone polygons in metres: [[x, y], ...], first vertex not repeated at the end.
import { intersection } from "polyclip-ts";

// Two zones that share an edge meet along a line of zero area; floating-point noise from snapping
// leaves slivers far below a hundredth of a square metre, while a real overlap a shopper could
// stand in is larger than that.
export const OVERLAP_AREA_M2 = 0.01;

// Shoelace formula: A = ½ Σ (x_i y_{i+1} − x_{i+1} y_i), positive when counter-clockwise.
export function signedArea(ring) {
  let twice = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[(i + 1) % ring.length];
    twice += x0 * y1 - x1 * y0;
  }
  return twice / 2;
}

// Area centroid: C = 1/(6A) Σ (p_i + p_{i+1}) (x_i y_{i+1} − x_{i+1} y_i); vertex mean if degenerate.
export function centroid(ring) {
  const area = signedArea(ring);
  if (Math.abs(area) < 1e-12) {
    const n = ring.length;
    return [ring.reduce((s, p) => s + p[0], 0) / n, ring.reduce((s, p) => s + p[1], 0) / n];
  }
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[(i + 1) % ring.length];
    const cross = x0 * y1 - x1 * y0;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  return [cx / (6 * area), cy / (6 * area)];
}

function closed(ring) {
  return [...ring, ring[0]];
}

// Area shared by two polygons (0 when they only touch), by exact polygon clipping.
export function overlapArea(ringA, ringB) {
  const pieces = intersection([closed(ringA)], [closed(ringB)]);
  let total = 0;
  for (const piece of pieces) {
    const [outer, ...holes] = piece;
    total += Math.abs(signedArea(outer.slice(0, -1)));
    for (const hole of holes) total -= Math.abs(signedArea(hole.slice(0, -1)));
  }
  return total;
}

// The zones (by id) whose interior overlaps the given polygon by more than OVERLAP_AREA_M2.
export function overlappingZones(polygon, zones, ownId = null) {
  const hits = [];
  for (const zone of zones) {
    if (zone.id === ownId) continue;
    const area = overlapArea(polygon, zone.polygon);
    if (area > OVERLAP_AREA_M2) hits.push({ id: zone.id, name: zone.name, area_m2: area });
  }
  return hits;
}

// Distance t ≥ 0 along the ray p + t·u to the polygon's boundary (farthest crossing), or 0.
// Each edge a + s·(b − a) meets the ray where p + t·u = a + s·e, solved by 2-D cross products.
export function rayExitDistance(ring, [px, py], [ux, uy]) {
  let farthest = 0;
  for (let i = 0; i < ring.length; i++) {
    const [ax, ay] = ring[i];
    const [bx, by] = ring[(i + 1) % ring.length];
    const ex = bx - ax;
    const ey = by - ay;
    const denom = ux * ey - uy * ex;
    if (Math.abs(denom) < 1e-12) continue;
    const wx = ax - px;
    const wy = ay - py;
    const t = (wx * ey - wy * ex) / denom;
    const s = (wx * uy - wy * ux) / denom;
    if (t >= 0 && s >= 0 && s <= 1) farthest = Math.max(farthest, t);
  }
  return farthest;
}
