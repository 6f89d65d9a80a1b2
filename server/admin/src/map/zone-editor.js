// Zones drawn on the floor map: draw polygons and rectangles, reshape and move them (snapping to the
// other zones' vertices and edges), set facing with an arrow, warn on overlaps. Zones come in and go
// out as plain objects of the zones contract:
//   {id, name, kind, polygon: [[x, y], ...] metres, categories, skus, facing_deg, view_distance_m}
// Events (CustomEvent detail): "zonechange" {zone, action: create|update|delete}, "select" {zone},
// "overlaps" {overlaps: Map id → [{id, name, area_m2}]}.
import L from "./leaflet-global.js";
import "@geoman-io/leaflet-geoman-free";
import "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css";
import { FacingArrow } from "./facing-arrow.js";
import { DEFAULT_FACING_DEG, DEFAULT_VIEW_DISTANCE_M, FACING_KINDS } from "./facing.js";
import { randomId } from "../ids.js";
import { toLatLng, toPoint } from "./frame.js";
import { textLabel } from "./text-label.js";
import { overlappingZones } from "./polygon.js";
import { KIND_COLOURS, zoneStyle } from "./zone-style.js";

// Pixels within which a new or moved vertex jumps onto another zone's vertex or edge: about a
// fingertip on a tablet, small enough not to grab a neighbour on purpose kept apart.
export const SNAP_DISTANCE_PX = 15;

const GEOMAN_OPTIONS = {
  snappable: true,
  snapDistance: SNAP_DISTANCE_PX,
  snapSegment: true,
  allowSelfIntersection: false,
  continueDrawing: false,
};

function ringOf(layer) {
  const rings = layer.getLatLngs();
  const outer = Array.isArray(rings[0]) ? rings[0] : rings;
  return outer.map(toPoint);
}

export class ZoneEditor extends EventTarget {
  constructor(map) {
    super();
    this.map = map;
    this.entries = new Map(); // id → {zone, layer, arrow, label}
    this.selectedId = null;
    this.overlaps = new Map();
    L.PM.setOptIn(true); // only zone outlines are editable, never the plan, markers or shoppers
    map.pm.setGlobalOptions(GEOMAN_OPTIONS);
    map.on("pm:create", (event) => this.adoptDrawn(event.layer));
  }

  zones() {
    return Array.from(this.entries.values(), ({ zone }) => structuredClone(zone));
  }

  zone(id) {
    const entry = this.entries.get(id);
    return entry ? structuredClone(entry.zone) : null;
  }

  setZones(zones) {
    this.select(null);
    for (const id of [...this.entries.keys()]) this.detach(id);
    for (const zone of zones) this.attach(structuredClone(zone), L.polygon([]));
    this.refreshOverlaps();
  }

  startDrawing(shape) {
    this.select(null);
    this.map.pm.enableDraw(shape, GEOMAN_OPTIONS);
  }

  cancelDrawing() {
    this.map.pm.disableDraw();
  }

  // Geoman keeps reshaping (dragging corners) and moving (dragging the body) apart: one at a time.
  setMoving(moving) {
    const entry = this.entries.get(this.selectedId);
    if (!entry) return;
    if (moving) {
      entry.layer.pm.enableLayerDrag(); // ends reshaping first
    } else {
      entry.layer.pm.disableLayerDrag();
      entry.layer.pm.enable({ ...GEOMAN_OPTIONS, draggable: true });
    }
  }

  select(id) {
    if (this.selectedId === id) return;
    const previous = this.entries.get(this.selectedId);
    if (previous) {
      previous.layer.pm.disableLayerDrag();
      previous.layer.pm.disable();
    }
    this.selectedId = this.entries.has(id) ? id : null;
    const entry = this.entries.get(this.selectedId);
    if (entry) entry.layer.pm.enable({ ...GEOMAN_OPTIONS, draggable: true });
    this.restyleAll();
    this.emit("select", { zone: entry ? structuredClone(entry.zone) : null });
  }

  // Changes from the zone form: name, kind, categories, facing_deg, view_distance_m.
  updateZone(id, fields) {
    const entry = this.entries.get(id);
    if (!entry) return;
    Object.assign(entry.zone, structuredClone(fields));
    this.giveFacingDefaults(entry.zone);
    this.redraw(entry);
    this.emit("zonechange", { zone: structuredClone(entry.zone), action: "update" });
  }

  removeZone(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (this.selectedId === id) this.select(null);
    this.detach(id);
    this.refreshOverlaps();
    this.emit("zonechange", { zone: structuredClone(entry.zone), action: "delete" });
  }

  // ---- internals ------------------------------------------------------------------------------

  adoptDrawn(layer) {
    const zone = {
      id: randomId("zone"),
      name: `Zone ${this.entries.size + 1}`,
      kind: "area",
      polygon: ringOf(layer),
      categories: [],
      skus: [],
      facing_deg: null,
      view_distance_m: null,
    };
    this.attach(zone, layer);
    this.refreshOverlaps();
    this.emit("zonechange", { zone: structuredClone(zone), action: "create" });
    this.select(zone.id);
  }

  attach(zone, layer) {
    layer.options.pmIgnore = false;
    L.PM.reInitLayer(layer);
    layer.setLatLngs(zone.polygon.map(toLatLng));
    if (!layer._map) layer.addTo(this.map);
    const entry = { zone, layer, arrow: null, label: null };
    layer.on("click", () => {
      if (!this.map.pm.globalDrawModeEnabled()) this.select(zone.id); // a click while drawing is a corner
    });
    layer.on("pm:edit", () => this.reshaped(entry));
    this.entries.set(zone.id, entry);
    this.giveFacingDefaults(zone);
    this.redraw(entry);
  }

  detach(id) {
    const entry = this.entries.get(id);
    entry.layer.pm.disableLayerDrag();
    entry.layer.pm.disable();
    entry.layer.remove();
    entry.arrow?.remove();
    this.entries.delete(id);
  }

  reshaped(entry) {
    entry.zone.polygon = ringOf(entry.layer);
    this.redraw(entry);
    this.refreshOverlaps();
    this.emit("zonechange", { zone: structuredClone(entry.zone), action: "update" });
  }

  giveFacingDefaults(zone) {
    if (!FACING_KINDS.has(zone.kind)) return;
    zone.facing_deg ??= DEFAULT_FACING_DEG;
    zone.view_distance_m ??= DEFAULT_VIEW_DISTANCE_M;
  }

  redraw(entry) {
    const { zone } = entry;
    const wantsArrow = FACING_KINDS.has(zone.kind) && zone.facing_deg !== null;
    if (!wantsArrow) {
      entry.arrow?.remove();
      entry.arrow = null;
    } else {
      entry.arrow ??= new FacingArrow(this.map, KIND_COLOURS[zone.kind], (facing) => {
        Object.assign(zone, facing);
        this.emit("zonechange", { zone: structuredClone(zone), action: "update" });
      });
      entry.arrow.setColour(KIND_COLOURS[zone.kind]);
      entry.arrow.draw(zone.polygon, zone.facing_deg, zone.view_distance_m);
    }
    this.restyle(entry);
  }

  refreshOverlaps() {
    const zones = Array.from(this.entries.values(), (e) => e.zone);
    this.overlaps = new Map();
    for (const zone of zones) {
      const hits = overlappingZones(zone.polygon, zones, zone.id);
      if (hits.length) this.overlaps.set(zone.id, hits);
    }
    this.restyleAll();
    this.emit("overlaps", { overlaps: this.overlaps });
  }

  restyleAll() {
    for (const entry of this.entries.values()) this.restyle(entry);
  }

  restyle(entry) {
    const { id, kind, name } = entry.zone;
    entry.layer.setStyle(
      zoneStyle(kind, { selected: id === this.selectedId, overlapping: this.overlaps.has(id) }),
    );
    if (entry.label?.textContent === name) return;
    entry.label = textLabel(name);
    if (entry.layer.getTooltip()) entry.layer.setTooltipContent(entry.label);
    else {
      entry.layer.bindTooltip(entry.label, {
        direction: "center",
        className: "zone-label",
        permanent: true,
      });
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
