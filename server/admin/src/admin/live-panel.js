// Watching the store live over /ws/live: shopper dots on the map, zone events and offers in a feed.
import { websocketUrl } from "../api.js";
import { LiveLayer } from "../map/live-layer.js";
import { ReconnectingSocket } from "../reconnect.js";

// The feed keeps the latest lines only: a busy store sends several a second.
export const FEED_LINES = 200;
// How often shoppers that went quiet are cleared from the map.
const STALE_SWEEP_MS = 2000;

function isPosition(frame) {
  return typeof frame.shopper === "string" && Number.isFinite(frame.x) && Number.isFinite(frame.y);
}

function describe(frame, zoneName) {
  const time = new Date(frame.t_ms ?? Date.now()).toLocaleTimeString();
  const zone = frame.zone_id ? zoneName(frame.zone_id) : "";
  if (frame.type === "zone_event") {
    const dwell = frame.kind === "dwell" ? ` after ${Math.round(frame.dwell_s)} s` : "";
    return `${time} shopper ${frame.shopper}: ${frame.kind} ${zone}${dwell}`;
  }
  if (frame.type === "screen") {
    return `${time} screen ${frame.screen_id} ${screenState(frame)}`;
  }
  if (frame.type === "offer") {
    const where = frame.screen_id ? `screen ${frame.screen_id}` : "app";
    return `${time} offer of campaign ${frame.campaign_id} on ${where}${zone ? ` in ${zone}` : ""}`;
  }
  return `${time} ${frame.type ?? "message"}`;
}

// A screen's state in words: "offline", "online, playing the playlist" or "online, showing “title”".
export function screenState({ online, playing }, nowMs = Date.now()) {
  if (!online) return "offline";
  const showing = playing && (playing.until_ms ?? Infinity) > nowMs;
  const title = playing?.content?.title ?? playing?.content?.content_id ?? "an offer";
  return showing ? `online, showing “${title}”` : "online, playing the playlist";
}

export class LivePanel {
  // onScreen(frame) hears each screen's state as the server pushes it (the devices panel shows it).
  constructor(map, context, { wsBase = null, renderer = "svg", onScreen = () => {} } = {}) {
    this.layer = new LiveLayer(map, { renderer });
    this.onScreen = onScreen;
    this.context = context;
    this.wsBase = wsBase;
    this.socket = null;
    this.feed = document.getElementById("live-feed");
    this.status = document.getElementById("live-status");
    setInterval(() => {
      const before = this.layer.count;
      this.layer.dropStale(Date.now());
      if (this.socket && this.layer.count !== before) this.showCount();
    }, STALE_SWEEP_MS);
  }

  start() {
    const { api, store } = this.context();
    if (this.socket || !store) return;
    this.storeId = store.id;
    this.socket = new ReconnectingSocket(websocketUrl("/ws/live", this.wsBase), {
      onOpen: (send) => send({ type: "hello", token: api.token, store_id: store.id }),
      onMessage: (frame) => this.received(frame),
      onStatus: (status) => {
        if (status === "online") this.showCount();
        else if (this.socket) this.status.textContent = "Reconnecting…";
        this.status.dataset.connection = status;
      },
    });
    this.socket.start();
  }

  showCount() {
    const n = this.layer.count;
    this.status.textContent = `Live: ${n} shopper${n === 1 ? "" : "s"} on this floor.`;
  }

  stop() {
    this.socket?.stop();
    this.socket = null;
  }

  // Another floor shows other shoppers; another store needs another feed (one per store).
  floorChanged() {
    this.layer.clear();
    if (!this.socket) return;
    this.showCount();
    if (this.storeId === this.context().store?.id) return;
    this.stop();
    this.start();
  }

  received(frame) {
    const { floor } = this.context();
    if (frame.type === "welcome") return;
    if (frame.type === "error") {
      this.status.textContent = `Server: ${frame.reason}`;
      if (frame.code === "unauthorized") this.stop(); // retrying cannot help: log in again
      return;
    }
    if (isPosition(frame)) {
      if (frame.floor_id === undefined || frame.floor_id === floor?.id) {
        const before = this.layer.count;
        this.layer.update(frame, Date.now());
        if (this.layer.count !== before) this.showCount();
      }
      return;
    }
    if (frame.type === "screen") this.onScreen(frame);
    const line = document.createElement("li");
    line.textContent = describe(frame, this.context().zoneName);
    this.feed.prepend(line);
    while (this.feed.children.length > FEED_LINES) this.feed.lastChild.remove();
  }
}
