// A heatmap grid from the analytics API (rows from the south, null where k-anonymity hides a cell)
// as RGBA pixels for a canvas, whose rows run from the north: row iy lands on pixel row ny−1−iy.

// Light yellow → deep red as the share of the busiest cell grows (t in [0, 1]); more opaque too.
export function heatColour(t) {
  const clamped = Math.max(0, Math.min(1, t));
  return [
    255,
    Math.round(230 * (1 - clamped)),
    Math.round(120 * (1 - clamped) ** 2),
    Math.round(90 + 140 * clamped),
  ];
}

// {width, height, data}: hidden (null), empty and negative cells stay transparent (alpha 0).
export function gridPixels(grid) {
  const height = Math.max(grid.length, 1);
  const width = Math.max(grid[0]?.length ?? 0, 1);
  const data = new Uint8ClampedArray(width * height * 4);
  const max = Math.max(0, ...grid.flat().filter((v) => v !== null));
  if (max <= 0) return { width, height, data };
  grid.forEach((row, iy) =>
    row.forEach((value, ix) => {
      if (value === null || value <= 0) return;
      data.set(heatColour(value / max), ((grid.length - 1 - iy) * width + ix) * 4);
    }),
  );
  return { width, height, data };
}
