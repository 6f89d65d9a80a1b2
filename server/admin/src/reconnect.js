// A websocket that reconnects by itself with capped exponential backoff and jitter.

// First retry soon: a server restart or a dropped Wi-Fi association is back within a second or two.
export const FIRST_RETRY_MS = 500;
// Never wait more than 30 s: a screen dark for longer is noticed by shoppers; and never less, so a
// store's worth of screens does not hammer a server that is coming back up.
export const MAX_RETRY_MS = 30_000;

// "Equal jitter": half the exponential delay fixed, half random, so screens spread out their retries.
export function retryDelayMs(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return ceiling / 2 + (random() * ceiling) / 2;
}

export class ReconnectingSocket {
  // onOpen(send) after every (re)connection, onMessage(frame) per JSON frame, onStatus("online"|"offline").
  constructor(url, { onOpen, onMessage, onStatus = () => {} }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.onStatus("online");
      this.onOpen((frame) => this.send(frame));
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not JSON: nothing a screen could act on
      }
      // Only a server that answers with something other than an error counts as back: one that
      // accepts the connection and then refuses us must not reset the backoff.
      if (frame?.type !== "error") this.attempt = 0;
      this.onMessage(frame);
    });
    socket.addEventListener("close", () => {
      this.onStatus("offline");
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), retryDelayMs(this.attempt++));
    });
  }

  // True when the frame went out; false when offline (the caller keeps it for later).
  send(frame) {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }
}
