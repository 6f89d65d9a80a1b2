// How each zone kind looks on the plan: colour-blind-safe hues (Okabe–Ito), outlines thick enough
// to grab on a tablet. Obstacles (shelf units, walls: where nobody stands) are grey and hatched.
export const KIND_COLOURS = {
  area: "#0072B2",
  shelf: "#E69F00",
  screen: "#CC79A7",
  entrance: "#009E73",
  checkout: "#D55E00",
  obstacle: "#555555",
};

export const OVERLAP_COLOUR = "#C00000";
export const HATCH_ID = "aislecast-obstacle-hatch";

// Leaflet writes fillColor into the SVG path's fill attribute, so a fill of url(#id) paints the
// path with a <pattern> defined anywhere in the page: one hidden <svg> holds it.
function ensureHatchPattern() {
  if (typeof document === "undefined" || document.getElementById(HATCH_ID)) return;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "0");
  svg.setAttribute("height", "0");
  svg.setAttribute("aria-hidden", "true");
  svg.style.position = "absolute";
  svg.innerHTML =
    `<defs><pattern id="${HATCH_ID}" patternUnits="userSpaceOnUse" width="8" height="8" ` +
    `patternTransform="rotate(45)"><rect width="8" height="8" fill="${KIND_COLOURS.obstacle}" ` +
    `fill-opacity="0.35"/><line x1="0" y1="0" x2="0" y2="8" stroke="${KIND_COLOURS.obstacle}" ` +
    `stroke-width="3"/></pattern></defs>`;
  document.body.appendChild(svg);
}

export function zoneStyle(kind, { selected = false, overlapping = false } = {}) {
  const colour = KIND_COLOURS[kind] ?? KIND_COLOURS.area;
  const obstacle = kind === "obstacle";
  if (obstacle) ensureHatchPattern();
  return {
    color: overlapping ? OVERLAP_COLOUR : colour,
    fillColor: obstacle ? `url(#${HATCH_ID})` : colour,
    fillOpacity: obstacle ? (selected ? 0.9 : 0.7) : selected ? 0.35 : 0.2,
    weight: selected ? 4 : 2,
    dashArray: overlapping ? "6 4" : null,
  };
}
