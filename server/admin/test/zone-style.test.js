import { describe, expect, it } from "vitest";
import { HATCH_ID, KIND_COLOURS, zoneStyle } from "../src/map/zone-style.js";

describe("zone style", () => {
  it("draws obstacles grey and hatched, apart from the zones shoppers stand in", () => {
    const obstacle = zoneStyle("obstacle");
    expect(obstacle.color).toBe(KIND_COLOURS.obstacle);
    expect(obstacle.fillColor).toBe(`url(#${HATCH_ID})`);
    for (const kind of ["area", "shelf", "screen", "entrance", "checkout"]) {
      expect(zoneStyle(kind).fillColor).toBe(KIND_COLOURS[kind]);
      expect(KIND_COLOURS[kind]).not.toBe(KIND_COLOURS.obstacle);
    }
  });

  it("still marks an overlapping obstacle in the overlap colour", () => {
    expect(zoneStyle("obstacle", { overlapping: true }).color).toBe("#C00000");
  });
});
