import { describe, expect, it } from "vitest";
import { gridPixels, heatColour } from "../src/map/heat-grid.js";

const alpha = ({ width, data }, column, pixelRow) => data[(pixelRow * width + column) * 4 + 3];

describe("gridPixels", () => {
  it("puts the grid's southern row at the bottom of the image", () => {
    const pixels = gridPixels([
      [10, 0],
      [0, 0],
    ]);
    expect(alpha(pixels, 0, 1)).toBeGreaterThan(0); // south-west cell, bottom-left pixel
    expect(alpha(pixels, 0, 0)).toBe(0);
  });

  it("leaves hidden and empty cells transparent", () => {
    const pixels = gridPixels([[null, 0, 5]]);
    expect([alpha(pixels, 0, 0), alpha(pixels, 1, 0), alpha(pixels, 2, 0)]).toEqual([
      0,
      0,
      heatColour(1)[3],
    ]);
  });

  it("scales colours to the busiest shown cell", () => {
    const { data } = gridPixels([[2, 4]]);
    expect(Array.from(data.slice(4, 8))).toEqual(heatColour(1));
    expect(Array.from(data.slice(0, 4))).toEqual(heatColour(0.5));
  });
});
