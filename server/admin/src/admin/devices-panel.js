// Beacons and screens on the plan: add at the map's centre, drag to move (saved on drop), remove;
// each screen's zone, its state (online, what it plays: pushed on the live feed as it changes, and
// looked up again while the panel is open) on its row and its marker, and the address its player
// opens.
import { randomId } from "../ids.js";
import { toPoint } from "../map/frame.js";
import { SiteMarkers } from "../map/site-markers.js";
import { screenState } from "./live-panel.js";

// The live feed pushes each change; the lookup catches what it missed while disconnected.
export const SCREEN_STATE_REFRESH_MS = 10_000;

function cell(...content) {
  const td = document.createElement("td");
  td.append(...content);
  return td;
}

function button(label, onClick, className = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

export class DevicesPanel {
  constructor(map, api, context) {
    this.map = map;
    this.context = context;
    this.beacons = new SiteMarkers(map, "beacon", (b) => this.moved("beacon", b));
    this.screens = new SiteMarkers(map, "screen", (s) => this.moved("screen", s));
    this.screenRows = document.getElementById("screen-rows");
    this.beaconRows = document.getElementById("beacon-rows");
    this.problem = document.getElementById("devices-error");
    this.panel = document.querySelector('[data-panel="devices"]');
    document.getElementById("add-beacon").addEventListener("click", () => this.add("beacon"));
    document.getElementById("add-screen").addEventListener("click", () => this.add("screen"));
    this.stateCells = new Map(); // screen id → [state cell, playing cell, screen name]
    setInterval(() => {
      if (!this.panel.hidden && this.context().floor) this.refreshScreenState().catch(() => {});
    }, SCREEN_STATE_REFRESH_MS);
  }

  async load() {
    const { api, store, floor } = this.context();
    const onFloor = (item) => item.floor_id === floor.id;
    const [beacons, screens] = await Promise.all([
      api.listBeacons(store.id),
      api.listScreens(store.id),
    ]);
    this.beacons.setItems(beacons.filter(onFloor));
    this.screens.setItems(screens.filter(onFloor));
    this.showScreens(screens.filter(onFloor));
    this.showBeacons(beacons.filter(onFloor));
  }

  // Updates the state and playing cells in place, so an open player link or a zone being chosen stays.
  async refreshScreenState() {
    const { api, store, floor } = this.context();
    const screens = (await api.listScreens(store.id)).filter((s) => s.floor_id === floor.id);
    if (
      screens.some((s) => !this.stateCells.has(s.id)) ||
      screens.length !== this.stateCells.size
    ) {
      return this.load();
    }
    for (const screen of screens) this.showState(screen.id, screen.online, screen.current);
  }

  // A `screen` frame from the live feed (docs/protocol.md): the screen's state as it changes.
  screenChanged({ screen_id, online, playing }) {
    if (this.stateCells.has(screen_id)) this.showState(screen_id, online, playing);
  }

  // The row's state and playing cells and the marker's look; pushed content past its until_ms is
  // over (the screen is back on its playlist), so it is not shown as playing.
  showState(screenId, online, playing) {
    const [state, playingCell, name] = this.stateCells.get(screenId);
    const showing = online && playing && (playing.until_ms ?? Infinity) > Date.now();
    state.textContent = online ? "online" : "offline";
    playingCell.textContent = showing ? (playing.content?.title ?? "an offer") : "playlist";
    const marker = this.screens.markers.get(screenId)?.getElement();
    marker?.setAttribute("data-state", online ? "online" : "offline");
    marker?.setAttribute("title", `screen ${name}: ${screenState({ online, playing })}`);
  }

  // Runs one API call; a refusal is shown above the tables and the markers go back to the server's.
  async attempt(call) {
    this.problem.textContent = "";
    try {
      await call(this.context());
    } catch (error) {
      this.problem.textContent = error.message;
    }
    await this.load();
  }

  add(kind) {
    const [x, y] = toPoint(this.map.getCenter());
    const id = randomId(kind, 3);
    return this.attempt(({ api, store, floor }) =>
      kind === "beacon"
        ? api.createBeacon(store.id, { id, floor_id: floor.id, x, y })
        : api.createScreen(store.id, {
            id,
            floor_id: floor.id,
            name: `Screen ${id.slice(-6)}`,
            x,
            y,
          }),
    );
  }

  moved(kind, { id, x, y }) {
    return this.attempt(({ api, store }) =>
      kind === "beacon"
        ? api.updateBeacon(store.id, id, { x, y })
        : api.updateScreen(store.id, id, { x, y }),
    );
  }

  showScreens(screens) {
    const zones = this.context().zones();
    this.stateCells.clear();
    this.screenRows.replaceChildren(
      ...screens.map((screen) => {
        const zoneSelect = document.createElement("select");
        zoneSelect.setAttribute("aria-label", `Zone of ${screen.name}`);
        zoneSelect.add(new Option("—", ""));
        for (const zone of zones) zoneSelect.add(new Option(zone.name, zone.id));
        zoneSelect.value = screen.zone_id ?? "";
        zoneSelect.addEventListener("change", () =>
          this.attempt(({ api, store }) =>
            api.updateScreen(store.id, screen.id, { zone_id: zoneSelect.value || null }),
          ),
        );
        const state = cell();
        const playing = cell();
        state.className = "screen-state";
        playing.className = "screen-playing";
        this.stateCells.set(screen.id, [state, playing, screen.name]);
        const row = document.createElement("tr");
        row.append(
          cell(screen.name),
          cell(zoneSelect),
          state,
          playing,
          cell(
            button("Player link", () => this.showPlayerLink(screen, row)),
            " ",
            button(
              "Remove",
              () => this.attempt(({ api, store }) => api.deleteScreen(store.id, screen.id)),
              "danger",
            ),
          ),
        );
        return row;
      }),
    );
    for (const screen of screens) this.showState(screen.id, screen.online, screen.current);
  }

  showBeacons(beacons) {
    this.beaconRows.replaceChildren(
      ...beacons.map((beacon) => {
        const row = document.createElement("tr");
        row.append(
          cell(beacon.id),
          cell(`${beacon.x.toFixed(2)}, ${beacon.y.toFixed(2)}`),
          cell(
            button(
              "Remove",
              () => this.attempt(({ api, store }) => api.deleteBeacon(store.id, beacon.id)),
              "danger",
            ),
          ),
        );
        return row;
      }),
    );
  }

  // A new token each time (the server keeps only its hash, so an old link cannot be shown again).
  async showPlayerLink(screen, row) {
    const { api, store } = this.context();
    try {
      const issued = await api.createScreenToken(store.id, screen.id, `player of ${screen.name}`);
      const address = new URL("screen.html", location.href);
      address.search = new URLSearchParams({ token: issued.token }).toString();
      const field = document.createElement("input");
      field.readOnly = true;
      field.value = address.href;
      field.setAttribute("aria-label", `Player address of ${screen.name}`);
      const td = cell("Open this in the screen's browser (kiosk mode):", field);
      td.colSpan = 5;
      const line = document.createElement("tr");
      line.className = "player-link";
      line.append(td);
      row.after(line);
    } catch (error) {
      this.problem.textContent = error.message;
    }
  }
}
