// How each zone kind looks on the plan: colour-blind-safe hues (Okabe–Ito), outlines thick enough
// to grab on a tablet.
export const KIND_COLOURS = {
  area: "#0072B2",
  shelf: "#E69F00",
  screen: "#CC79A7",
  entrance: "#009E73",
  checkout: "#D55E00",
};

export const OVERLAP_COLOUR = "#C00000";

export function zoneStyle(kind, { selected = false, overlapping = false } = {}) {
  const colour = KIND_COLOURS[kind] ?? KIND_COLOURS.area;
  return {
    color: overlapping ? OVERLAP_COLOUR : colour,
    fillColor: colour,
    fillOpacity: selected ? 0.35 : 0.2,
    weight: selected ? 4 : 2,
    dashArray: overlapping ? "6 4" : null,
  };
}
