// Beacons and screens as draggable markers in metres. Each item is {id, x, y, ...}; moving one calls
// onMove(item with the new x, y) once the drag ends.
import L from "./leaflet-global.js";
import { toLatLng, toPoint } from "./frame.js";
import { textLabel } from "./text-label.js";

const ICONS = {
  beacon: () => L.divIcon({ className: "site-marker beacon-marker", iconSize: [14, 14] }),
  screen: () => L.divIcon({ className: "site-marker screen-marker", iconSize: [22, 14] }),
};

export class SiteMarkers {
  constructor(map, kind, onMove) {
    this.map = map;
    this.kind = kind;
    this.onMove = onMove;
    this.markers = new Map();
  }

  setItems(items) {
    for (const marker of this.markers.values()) marker.remove();
    this.markers.clear();
    for (const item of items) this.put(item);
  }

  put(item) {
    this.markers.get(item.id)?.remove();
    const marker = L.marker(toLatLng([item.x, item.y]), {
      pmIgnore: true,
      snapIgnore: true,
      draggable: true,
      keyboard: true,
      title: `${this.kind} ${item.name ?? item.id}`,
      icon: ICONS[this.kind](),
    });
    marker.bindTooltip(textLabel(item.name ?? item.id), { direction: "top", offset: [0, -8] });
    marker.on("dragend", () => {
      const [x, y] = toPoint(marker.getLatLng());
      this.onMove({ ...item, x, y });
    });
    marker.addTo(this.map);
    this.markers.set(item.id, marker);
  }

  removeItem(id) {
    this.markers.get(id)?.remove();
    this.markers.delete(id);
  }
}
