// The floor's metre frame on a Leaflet CRS.Simple map: origin at the plan's SW corner, +x east,
// +y north. CRS.Simple maps lat to y and lng to x, so a point [x, y] is the LatLng (y, x).
// Headings are degrees, 0 = +x, counter-clockwise (90 = north), in [0, 360).

// Coordinates leave the editor rounded to a centimetre: finer than anyone can draw or measure.
export const METRE_DECIMALS = 2;

export function roundMetres(value) {
  const scale = 10 ** METRE_DECIMALS;
  return Math.round(value * scale) / scale;
}

export function toLatLng([x, y]) {
  return [y, x];
}

export function toPoint(latLng) {
  return [roundMetres(latLng.lng), roundMetres(latLng.lat)];
}

export function normaliseHeading(deg) {
  const wrapped = deg % 360;
  return wrapped < 0 ? wrapped + 360 : wrapped;
}

// θ = atan2(dy, dx), in degrees counter-clockwise from +x.
export function headingOf(dx, dy) {
  return normaliseHeading((Math.atan2(dy, dx) * 180) / Math.PI);
}

export function unitVector(headingDeg) {
  const rad = (headingDeg * Math.PI) / 180;
  return [Math.cos(rad), Math.sin(rad)];
}
