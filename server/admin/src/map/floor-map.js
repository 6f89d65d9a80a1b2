// A Leaflet map in the floor's metre frame (CRS.Simple: one map unit = one metre, lat = y, lng = x)
// with the floor plan stretched over [0, width_m] × [0, height_m].
import L from "./leaflet-global.js";
import "leaflet/dist/leaflet.css";

// Metres of margin kept around the plan when panning, so edge zones can still be grabbed.
export const PAN_MARGIN_M = 10;

// Where the pointer is, in floor metres: staff check a corner against the plan's dimensions.
const CursorReadout = L.Control.extend({
  options: { position: "bottomleft" },
  onAdd(map) {
    const box = L.DomUtil.create("div", "cursor-readout");
    box.textContent = "x — m, y — m";
    map.on("mousemove", ({ latlng }) => {
      box.textContent = `x ${latlng.lng.toFixed(2)} m, y ${latlng.lat.toFixed(2)} m`;
    });
    return box;
  },
});

export function createFloorMap(element) {
  const map = L.map(element, {
    crs: L.CRS.Simple,
    // Zoom 0 draws a metre as one pixel; −2..7 spans a 2 km hall down to a single shelf.
    minZoom: -2,
    maxZoom: 7,
    zoomSnap: 0.25,
    attributionControl: false,
    boxZoom: false,
    doubleClickZoom: false,
  });
  // CRS.Simple measures straight-line map units, which are metres here, so the scale bar is true.
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  new CursorReadout().addTo(map);
  return map;
}

// Shows the plan (or an empty grid when there is no image) and fits the view to it.
export function showPlan(map, { width_m, height_m, imageUrl }, previous = null) {
  if (previous) previous.remove();
  const bounds = L.latLngBounds([0, 0], [height_m, width_m]);
  const overlay = imageUrl
    ? L.imageOverlay(imageUrl, bounds, { className: "floor-plan", interactive: false })
    : L.rectangle(bounds, { className: "floor-plan", interactive: false, fill: false, weight: 1 });
  overlay.options.pmIgnore = true;
  overlay.options.snapIgnore = true;
  overlay.addTo(map);
  map.setMaxBounds(bounds.pad(PAN_MARGIN_M / Math.max(width_m, height_m)));
  map.fitBounds(bounds);
  return overlay;
}
