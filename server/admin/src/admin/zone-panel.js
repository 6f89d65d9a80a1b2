// The zone side panel: drawing buttons, the zone form (name, kind, categories, facing), the overlap
// warning, save and delete through the API, and a zone's version history with restore.
import { clearErrors, showErrors } from "../form-errors.js";
import { FACING_KINDS } from "../map/facing.js";

const SHAPE_FIELDS = [
  "id",
  "name",
  "kind",
  "polygon",
  "categories",
  "skus",
  "facing_deg",
  "view_distance_m",
];

function categoriesOf(text) {
  return text
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
}

// A number field being retyped (empty, or "-" on the way to a number) keeps the value it had.
function numberOr(text, current) {
  const value = Number(text);
  return text === "" || !Number.isFinite(value) ? current : value;
}

function describeOutline(polygon) {
  return polygon.map(([x, y]) => `(${x.toFixed(2)}, ${y.toFixed(2)})`).join(" ") + " m";
}

export class ZonePanel {
  constructor(editor, api, context) {
    this.editor = editor;
    this.api = api;
    this.context = context;
    this.saved = new Map(); // id → the zone as the server last stored it
    this.form = document.getElementById("zone-form");
    this.warning = document.getElementById("overlap-warning");
    this.versions = document.getElementById("zone-versions");
    for (const button of document.querySelectorAll("[data-draw]")) {
      button.addEventListener("click", () => editor.startDrawing(button.dataset.draw));
    }
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") editor.cancelDrawing();
    });
    editor.addEventListener("select", (e) => this.showZone(e.detail.zone));
    editor.addEventListener("zonechange", (e) => this.zoneChanged(e.detail));
    editor.addEventListener("overlaps", () => this.showOverlaps());
    this.form.addEventListener("input", () => this.formEdited());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    document.getElementById("zone-delete").addEventListener("click", () => this.remove());
    this.moveButton = document.getElementById("zone-move");
    this.moveButton.addEventListener("click", () => {
      const moving = this.moveButton.getAttribute("aria-pressed") !== "true";
      this.moveButton.setAttribute("aria-pressed", String(moving));
      editor.setMoving(moving);
    });
  }

  async load() {
    const { api, store, floor } = this.context();
    const zones = (await api.listZones(store.id)).filter((z) => z.floor_id === floor.id);
    this.saved = new Map(zones.map((z) => [z.id, z]));
    this.editor.setZones(zones.map((z) => Object.fromEntries(SHAPE_FIELDS.map((k) => [k, z[k]]))));
  }

  get selected() {
    return this.editor.selectedId ? this.editor.zone(this.editor.selectedId) : null;
  }

  showZone(zone) {
    clearErrors(this.form);
    document.getElementById("zone-saved").textContent = "";
    this.form.hidden = !zone;
    this.moveButton.setAttribute("aria-pressed", "false");
    document.getElementById("zone-history").hidden = !zone || !this.saved.has(zone.id);
    this.showOverlaps();
    this.versions.replaceChildren();
    if (!zone) return;
    const f = this.form.elements;
    document.getElementById("zone-id").textContent = zone.id;
    f.name.value = zone.name;
    f.kind.value = zone.kind;
    f.categories.value = zone.categories.join(", ");
    this.showShapeFields(zone);
    if (this.saved.has(zone.id)) this.loadVersions(zone.id);
  }

  showShapeFields(zone) {
    const f = this.form.elements;
    this.form.querySelector("fieldset.facing").hidden = !FACING_KINDS.has(zone.kind);
    // The field being typed in keeps what is typed; the other follows the arrow.
    if (document.activeElement !== f.facing_deg) f.facing_deg.value = zone.facing_deg ?? "";
    if (document.activeElement !== f.view_distance_m) {
      f.view_distance_m.value = zone.view_distance_m ?? "";
    }
    document.getElementById("zone-outline").textContent = describeOutline(zone.polygon);
  }

  zoneChanged({ zone, action }) {
    if (action === "delete" || zone.id !== this.editor.selectedId) return;
    document.getElementById("zone-saved").textContent = "Unsaved changes";
    this.showShapeFields(zone);
  }

  formEdited() {
    const zone = this.selected;
    if (!zone) return;
    const f = this.form.elements;
    const facing = FACING_KINDS.has(f.kind.value);
    this.editor.updateZone(zone.id, {
      name: f.name.value,
      kind: f.kind.value,
      categories: categoriesOf(f.categories.value),
      facing_deg: facing ? numberOr(f.facing_deg.value, zone.facing_deg) : null,
      view_distance_m: facing ? numberOr(f.view_distance_m.value, zone.view_distance_m) : null,
    });
  }

  showOverlaps() {
    const overlaps = this.editor.overlaps;
    const own = overlaps.get(this.editor.selectedId) ?? [];
    let text = "";
    if (own.length) {
      const hits = own.map((hit) => `“${hit.name}” by ${hit.area_m2.toFixed(1)} m²`);
      text = `Warning: this zone overlaps ${hits.join(", ")}.`;
    } else if (overlaps.size) {
      text = `Warning: ${overlaps.size} zones overlap (outlined in dashed red).`;
    }
    this.warning.hidden = !text;
    this.warning.textContent = text;
  }

  async save() {
    const zone = this.selected;
    if (!zone) return;
    const { api, store, floor } = this.context();
    clearErrors(this.form);
    try {
      const stored = this.saved.has(zone.id)
        ? await api.updateZone(store.id, zone.id, { ...zone, id: undefined, floor_id: floor.id })
        : await api.createZone(store.id, { ...zone, floor_id: floor.id });
      this.saved.set(stored.id, stored);
      document.getElementById("zone-saved").textContent = `Saved (version ${stored.version})`;
      this.loadVersions(stored.id);
    } catch (error) {
      showErrors(this.form, error);
    }
  }

  async remove() {
    const zone = this.selected;
    if (!zone) return;
    const { api, store } = this.context();
    try {
      if (this.saved.has(zone.id)) await api.deleteZone(store.id, zone.id);
      this.saved.delete(zone.id);
      this.editor.removeZone(zone.id);
    } catch (error) {
      showErrors(this.form, error);
    }
  }

  async loadVersions(zoneId) {
    const { api, store } = this.context();
    let versions;
    try {
      versions = await api.zoneVersions(store.id, zoneId);
    } catch {
      return; // history is a convenience; the zone itself is already shown
    }
    document.getElementById("zone-history").hidden = false;
    this.versions.replaceChildren(
      ...versions.map((v) => {
        const item = document.createElement("li");
        const when = new Date(v.created_ms).toLocaleString();
        item.textContent = `v${v.version} ${v.action}, ${when} `;
        const restore = document.createElement("button");
        restore.type = "button";
        restore.textContent = "Restore";
        restore.addEventListener("click", () => this.restore(zoneId, v.version));
        item.append(restore);
        return item;
      }),
    );
  }

  async restore(zoneId, version) {
    const { api, store } = this.context();
    try {
      const zone = await api.restoreZoneVersion(store.id, zoneId, version);
      this.saved.set(zone.id, zone);
      await this.load();
      this.editor.select(zone.id);
    } catch (error) {
      showErrors(this.form, error);
    }
  }
}
