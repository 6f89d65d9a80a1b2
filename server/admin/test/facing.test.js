import { describe, expect, it } from "vitest";
import { facingFromTail, headPoint, tailPoint } from "../src/map/facing.js";
import { headingOf, normaliseHeading, toLatLng, toPoint } from "../src/map/frame.js";

// A 10 m × 2 m shelf along x, centre (15, 11).
const shelf = [
  [10, 10],
  [20, 10],
  [20, 12],
  [10, 12],
];

describe("frame", () => {
  it("maps [x, y] to Leaflet's (lat = y, lng = x) and back, rounded to a centimetre", () => {
    expect(toLatLng([3, 4])).toEqual([4, 3]);
    expect(toPoint({ lat: 4.123456, lng: 3.987654 })).toEqual([3.99, 4.12]);
  });

  it("measures headings counter-clockwise from +x in [0, 360)", () => {
    expect(headingOf(1, 0)).toBe(0);
    expect(headingOf(0, 1)).toBeCloseTo(90);
    expect(headingOf(-1, 0)).toBeCloseTo(180);
    expect(headingOf(0, -1)).toBeCloseTo(270);
    expect(normaliseHeading(-90)).toBe(270);
    expect(normaliseHeading(720)).toBe(0);
  });
});

describe("facing arrow", () => {
  it("puts the viewing spot in front of the edge the shopper looks at", () => {
    // Looking north (90°) at the shelf: the shopper stands south of its south edge (y = 10).
    const [tx, ty] = tailPoint(shelf, 90, 3);
    expect(tx).toBeCloseTo(15);
    expect(ty).toBeCloseTo(7);
    const [hx, hy] = headPoint(shelf, 90);
    expect(hx).toBeCloseTo(15);
    expect(hy).toBeCloseTo(10);
  });

  it("reads facing and distance back from where the tail is dropped", () => {
    for (const [facing, distance] of [
      [90, 3],
      [270, 1.5],
      [180, 2],
      [0, 0.5],
      [45, 2.25],
    ]) {
      const tail = tailPoint(shelf, facing, distance);
      const read = facingFromTail(shelf, tail);
      expect(read.facing_deg).toBeCloseTo(facing, 1);
      expect(read.view_distance_m).toBeCloseTo(distance, 2);
    }
  });

  it("never gives a viewing distance inside the zone", () => {
    expect(facingFromTail(shelf, [15, 10.5]).view_distance_m).toBe(0.1);
  });
});
