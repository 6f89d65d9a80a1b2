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

function describe(frame) {
  const who = frame.shopper ? `${frame.shopper}: ` : "";
  const what = [frame.kind ?? frame.type, frame.zone_id, frame.campaign_id, frame.title]
    .filter((part) => part !== undefined && part !== null)
    .join(" ");
  return `${new Date(frame.t_ms ?? Date.now()).toLocaleTimeString()} ${who}${what}`;
}

export class LivePanel {
  constructor(map, context, wsBase) {
    this.layer = new LiveLayer(map);
    this.context = context;
    this.wsBase = wsBase;
    this.socket = null;
    this.feed = document.getElementById("live-feed");
    this.status = document.getElementById("live-status");
    setInterval(() => this.layer.dropStale(Date.now()), STALE_SWEEP_MS);
  }

  start() {
    const { api, store } = this.context();
    if (this.socket || !store) return;
    this.socket = new ReconnectingSocket(websocketUrl("/ws/live", this.wsBase), {
      onOpen: (send) => send({ type: "hello", token: api.token, store_id: store.id }),
      onMessage: (frame) => this.received(frame),
      onStatus: (status) => {
        this.status.textContent = status === "online" ? "Live." : "Reconnecting…";
        this.status.dataset.connection = status;
      },
    });
    this.socket.start();
  }

  restart() {
    if (!this.socket) return;
    this.socket.stop();
    this.socket = null;
    this.layer.clear();
    this.start();
  }

  received(frame) {
    const { floor } = this.context();
    if (isPosition(frame)) {
      if (frame.floor_id === undefined || frame.floor_id === floor?.id) {
        this.layer.update(frame, Date.now());
      }
      return;
    }
    const line = document.createElement("li");
    line.textContent = describe(frame);
    this.feed.prepend(line);
    while (this.feed.children.length > FEED_LINES) this.feed.lastChild.remove();
  }
}
