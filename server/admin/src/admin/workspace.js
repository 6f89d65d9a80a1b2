// The logged-in page: pick a store and floor, show its plan, and switch between the panels.
import { createFloorMap, showPlan } from "../map/floor-map.js";
import { ZoneEditor } from "../map/zone-editor.js";
import { AnalyticsPanel } from "./analytics-panel.js";
import { CampaignsPanel } from "./campaigns-panel.js";
import { DevicesPanel } from "./devices-panel.js";
import { LivePanel } from "./live-panel.js";
import { SetupPanel } from "./setup-panel.js";
import { ZonePanel } from "./zone-panel.js";

function option(value, label) {
  const element = document.createElement("option");
  element.value = String(value);
  element.textContent = label;
  return element;
}

export class Workspace {
  constructor(api, { wsBase = null, liveRenderer = "svg", onUnauthorised }) {
    this.api = api;
    this.onUnauthorised = onUnauthorised;
    this.storeSelect = document.getElementById("store-select");
    this.floorSelect = document.getElementById("floor-select");
    this.stores = [];
    this.floors = [];
    this.store = null;
    this.floor = null;
    this.plan = null;
    this.planUrl = null;
    this.map = createFloorMap(document.getElementById("map"));
    this.editor = new ZoneEditor(this.map);
    this.zonePanel = new ZonePanel(this.editor, api, () => this.context());
    this.devicesPanel = new DevicesPanel(this.map, api, () => this.context());
    this.livePanel = new LivePanel(this.map, () => this.context(), {
      wsBase,
      renderer: liveRenderer,
      onScreen: (frame) => this.devicesPanel.screenChanged(frame),
    });
    this.campaignsPanel = new CampaignsPanel(api, () => this.context());
    this.analyticsPanel = new AnalyticsPanel(this.map, api, () => this.context());
    this.setupPanel = new SetupPanel(
      api,
      () => this.context(),
      (ids) => this.reload(ids),
    );
    this.storeSelect.addEventListener("change", () => this.chooseStore(+this.storeSelect.value));
    this.floorSelect.addEventListener("change", () => this.chooseFloor(+this.floorSelect.value));
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.addEventListener("click", () => this.showTab(tab.dataset.tab));
    }
  }

  context() {
    return {
      api: this.api,
      store: this.store,
      floor: this.floor,
      zoneName: (id) => this.editor.zone(id)?.name ?? id,
      zones: () => this.editor.zones(),
    };
  }

  async open() {
    await this.reload({});
  }

  async reload({ storeId = this.store?.id, floorId = this.floor?.id }) {
    this.stores = await this.guard(this.api.listStores());
    this.storeSelect.replaceChildren(...this.stores.map((s) => option(s.id, s.name)));
    const store = this.stores.find((s) => s.id === storeId) ?? this.stores[0] ?? null;
    await this.chooseStore(store?.id ?? null, floorId);
    if (!store) this.showTab("setup");
  }

  async chooseStore(storeId, floorId = null) {
    this.store = this.stores.find((s) => s.id === storeId) ?? null;
    this.storeSelect.value = String(storeId ?? "");
    this.floors = this.store ? await this.guard(this.api.listFloors(this.store.id)) : [];
    this.floorSelect.replaceChildren(...this.floors.map((f) => option(f.id, f.name)));
    const floor = this.floors.find((f) => f.id === floorId) ?? this.floors[0] ?? null;
    await this.chooseFloor(floor?.id ?? null);
  }

  async chooseFloor(floorId) {
    this.floor = this.floors.find((f) => f.id === floorId) ?? null;
    this.floorSelect.value = String(floorId ?? "");
    if (this.planUrl) URL.revokeObjectURL(this.planUrl);
    this.planUrl = null;
    if (!this.floor) {
      this.editor.setZones([]);
      return;
    }
    if (this.floor.image_type) {
      const blob = await this.guard(this.api.planImage(this.store.id, this.floor.id));
      this.planUrl = URL.createObjectURL(blob);
    }
    this.plan = showPlan(
      this.map,
      { width_m: this.floor.width_m, height_m: this.floor.height_m, imageUrl: this.planUrl },
      this.plan,
    );
    // Zones first: each screen's row offers the floor's zones, read when the row is drawn.
    await this.zonePanel.load();
    this.campaignsPanel.zonesChanged();
    await this.devicesPanel.load();
    this.livePanel.floorChanged();
    this.analyticsPanel.load();
  }

  showTab(name) {
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    }
    for (const panel of document.querySelectorAll("[data-panel]")) {
      panel.hidden = panel.dataset.panel !== name;
    }
    if (name === "live" || name === "devices") this.livePanel.start(); // screens' state is on it
    if (name === "campaigns") this.campaignsPanel.load();
    this.analyticsPanel.show(name === "analytics");
  }

  // A 401 anywhere means the session ended: back to the login form.
  async guard(promise) {
    try {
      return await promise;
    } catch (error) {
      if (error.status === 401) this.onUnauthorised();
      throw error;
    }
  }
}
