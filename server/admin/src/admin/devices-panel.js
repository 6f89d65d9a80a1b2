// Beacons and screens on the plan: add at the map's centre, drag to move (saved on drop), remove, and
// each screen's state (online, what it plays) from the API.
import { randomId } from "../ids.js";
import { toPoint } from "../map/frame.js";
import { SiteMarkers } from "../map/site-markers.js";

export class DevicesPanel {
  constructor(map, api, context) {
    this.map = map;
    this.context = context;
    this.beacons = new SiteMarkers(map, "beacon", (b) => this.moved("beacon", b));
    this.screens = new SiteMarkers(map, "screen", (s) => this.moved("screen", s));
    this.rows = document.getElementById("screen-rows");
    document.getElementById("add-beacon").addEventListener("click", () => this.add("beacon"));
    document.getElementById("add-screen").addEventListener("click", () => this.add("screen"));
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
  }

  async add(kind) {
    const { api, store, floor } = this.context();
    const [x, y] = toPoint(this.map.getCenter());
    const id = randomId(kind, 3);
    try {
      if (kind === "beacon") {
        this.beacons.put(await api.createBeacon(store.id, { id, floor_id: floor.id, x, y }));
      } else {
        const screen = { id, floor_id: floor.id, name: `Screen ${id.slice(-6)}`, x, y };
        this.screens.put(await api.createScreen(store.id, screen));
      }
      await this.load();
    } catch (error) {
      this.showProblem(error);
    }
  }

  async moved(kind, { id, x, y }) {
    const { api, store } = this.context();
    try {
      if (kind === "beacon") await api.updateBeacon(store.id, id, { x, y });
      else await api.updateScreen(store.id, id, { x, y });
    } catch (error) {
      this.showProblem(error);
      await this.load(); // put the marker back where the server has it
    }
  }

  async removeScreen(id) {
    const { api, store } = this.context();
    try {
      await api.deleteScreen(store.id, id);
      await this.load();
    } catch (error) {
      this.showProblem(error);
    }
  }

  showScreens(screens) {
    this.rows.replaceChildren(
      ...screens.map((screen) => {
        const row = document.createElement("tr");
        const playing = screen.current?.content?.title ?? screen.current?.title ?? "playlist";
        for (const text of [screen.name, screen.online ? "online" : "offline", playing]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.append(cell);
        }
        const link = document.createElement("button");
        link.type = "button";
        link.textContent = "Player link";
        link.title = "Issue a token for this screen and show the address its browser opens";
        link.addEventListener("click", () => this.showPlayerLink(screen, row));
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "danger";
        remove.textContent = "Remove";
        remove.addEventListener("click", () => this.removeScreen(screen.id));
        row.lastChild.append(" ", link, " ", remove);
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
      const line = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = 3;
      const field = document.createElement("input");
      field.readOnly = true;
      field.value = address.href;
      field.setAttribute("aria-label", `Player address of ${screen.name}`);
      cell.append("Open this in the screen's browser (kiosk mode):", field);
      line.append(cell);
      row.after(line);
    } catch (error) {
      this.showProblem(error);
    }
  }

  showProblem(error) {
    const line = document.createElement("tr");
    const cell = document.createElement("td");
    cell.colSpan = 3;
    cell.className = "field-error";
    cell.textContent = error.message;
    line.append(cell);
    this.rows.prepend(line);
  }
}
