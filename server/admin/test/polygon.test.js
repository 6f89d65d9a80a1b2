import { describe, expect, it } from "vitest";
import {
  centroid,
  overlapArea,
  overlappingZones,
  rayExitDistance,
  signedArea,
} from "../src/map/polygon.js";

const square = (x, y, side) => [
  [x, y],
  [x + side, y],
  [x + side, y + side],
  [x, y + side],
];

describe("signedArea", () => {
  it("is positive counter-clockwise and negative clockwise (shoelace)", () => {
    expect(signedArea(square(0, 0, 2))).toBeCloseTo(4);
    expect(signedArea([...square(0, 0, 2)].reverse())).toBeCloseTo(-4);
  });

  it("measures a right triangle as half base times height", () => {
    expect(
      signedArea([
        [0, 0],
        [6, 0],
        [0, 4],
      ]),
    ).toBeCloseTo(12);
  });
});

describe("centroid", () => {
  it("of an L shape is the area-weighted mean of its two rectangles", () => {
    // 4×1 bar (centre 2, 0.5, area 4) plus a 1×3 bar on top at the left (centre 0.5, 2.5, area 3).
    const shape = [
      [0, 0],
      [4, 0],
      [4, 1],
      [1, 1],
      [1, 4],
      [0, 4],
    ];
    const [cx, cy] = centroid(shape);
    expect(cx).toBeCloseTo((2 * 4 + 0.5 * 3) / 7);
    expect(cy).toBeCloseTo((0.5 * 4 + 2.5 * 3) / 7);
  });
});

describe("overlapArea", () => {
  it("is the shared rectangle for two offset squares", () => {
    expect(overlapArea(square(0, 0, 10), square(5, 5, 10))).toBeCloseTo(25);
  });

  it("is zero for zones that only share an edge or a corner", () => {
    expect(overlapArea(square(0, 0, 10), square(10, 0, 10))).toBe(0);
    expect(overlapArea(square(0, 0, 10), square(10, 10, 5))).toBe(0);
  });

  it("is the smaller zone when one holds the other", () => {
    expect(overlapArea(square(0, 0, 10), square(2, 2, 3))).toBeCloseTo(9);
  });
});

describe("overlappingZones", () => {
  const zones = [
    { id: "a", name: "A", polygon: square(0, 0, 10) },
    { id: "b", name: "B", polygon: square(10, 0, 10) },
    { id: "c", name: "C", polygon: square(15, 5, 10) },
  ];

  it("names the zones overlapped beyond the sliver tolerance, never the zone itself", () => {
    const hits = overlappingZones(square(8, 0, 4), zones, "x");
    expect(hits.map((h) => h.id)).toEqual(["a", "b"]);
    expect(hits[0].area_m2).toBeCloseTo(8); // x 8..10 × y 0..4 inside A
    expect(overlappingZones(zones[1].polygon, zones, "b").map((h) => h.id)).toEqual(["c"]);
  });

  it("ignores slivers below a hundredth of a square metre", () => {
    expect(overlappingZones(square(9.999, 0, 5), zones, "x").map((h) => h.id)).toEqual(["b"]);
  });
});

describe("rayExitDistance", () => {
  it("reaches the boundary of a square from its centre in every axis direction", () => {
    const ring = square(0, 0, 4);
    expect(rayExitDistance(ring, [2, 2], [1, 0])).toBeCloseTo(2);
    expect(rayExitDistance(ring, [2, 2], [0, -1])).toBeCloseTo(2);
    expect(rayExitDistance(ring, [2, 2], [Math.SQRT1_2, Math.SQRT1_2])).toBeCloseTo(2 * Math.SQRT2);
  });
});
