// The facing arrow of a shelf or screen zone. facing_deg is the direction a shopper looks in to see
// the zone's front (from the viewing spot toward the zone); view_distance_m is how far in front of
// the zone's edge that spot may be. The arrow's tail is the viewing spot:
//   tail = c − u (r + d),  u = (cos facing, sin facing),
// with c the zone centroid and r the distance from c back to the zone's edge along −u.
import { centroid, rayExitDistance } from "./polygon.js";
import { headingOf, normaliseHeading, roundMetres, unitVector } from "./frame.js";

// A shelf is read from about an arm's length to a couple of metres away; start there.
export const DEFAULT_VIEW_DISTANCE_M = 2.0;
// Shoppers look at shelves from the aisle; north is as good a first guess as any.
export const DEFAULT_FACING_DEG = 90;
// Below ten centimetres the tail sits on the edge and can no longer be grabbed.
export const MIN_VIEW_DISTANCE_M = 0.1;

export const FACING_KINDS = new Set(["shelf", "screen"]);

export function tailPoint(polygon, facingDeg, viewDistanceM) {
  const c = centroid(polygon);
  const [ux, uy] = unitVector(facingDeg);
  const r = rayExitDistance(polygon, c, [-ux, -uy]);
  const reach = r + viewDistanceM;
  return [c[0] - ux * reach, c[1] - uy * reach];
}

// Inverse of tailPoint: where the tail was dropped gives the facing and the viewing distance.
export function facingFromTail(polygon, [tx, ty]) {
  const [cx, cy] = centroid(polygon);
  const facing = headingOf(cx - tx, cy - ty);
  const [ux, uy] = unitVector(facing);
  const r = rayExitDistance(polygon, [cx, cy], [-ux, -uy]);
  const reach = Math.hypot(cx - tx, cy - ty);
  return {
    // A tenth of a degree is finer than any shopper's heading is known.
    facing_deg: normaliseHeading(Math.round(facing * 10) / 10),
    view_distance_m: roundMetres(Math.max(MIN_VIEW_DISTANCE_M, reach - r)),
  };
}

// The point where the arrow meets the zone's edge (its head).
export function headPoint(polygon, facingDeg) {
  const c = centroid(polygon);
  const [ux, uy] = unitVector(facingDeg);
  const r = rayExitDistance(polygon, c, [-ux, -uy]);
  return [c[0] - ux * r, c[1] - uy * r];
}
