// The signage player a screen's browser opens in kiosk mode: /screen?token=SCREEN_TOKEN[&zone=ZONE_ID]
// [&ws=ws://host:port to reach another server]. It registers on /ws/screen, loops the playlist, shows
// pushed content at once, reconnects by itself and reports what it played.
import { websocketUrl } from "../api.js";
import { ReconnectingSocket } from "../reconnect.js";
import { Outbox } from "./outbox.js";
import { Playback } from "./playback.js";
import "./screen.css";

const params = new URLSearchParams(location.search);
const token = params.get("token");
const zoneId = params.get("zone");
const stage = document.getElementById("stage");
const statusLine = document.getElementById("status");

function render(content, source) {
  stage.dataset.source = source;
  stage.dataset.contentId = content.content_id ?? content.id ?? "";
  stage.replaceChildren();
  // Playlist items name their picture media_url; campaign content (triggers) names it image_url.
  const imageUrl = content.media_url ?? content.image_url;
  if (imageUrl) {
    const image = document.createElement("img");
    image.src = imageUrl;
    image.alt = content.title ?? "";
    stage.append(image);
  }
  const title = document.createElement("h1");
  title.textContent = content.title ?? "";
  const body = document.createElement("p");
  body.textContent = content.body ?? "";
  stage.append(title, body);
}

function start() {
  const outbox = new Outbox();
  let socket = null;
  const reportPlayed = (frame) => {
    if (socket) outbox.post(frame, (f) => socket.send(f)); // unconfigured screens report nothing
  };
  const playback = new Playback({ render, reportPlayed });
  playback.next(); // the house playlist until the server's arrives: never a blank screen
  if (!token) {
    statusLine.textContent =
      "This screen has no token: open it as /screen?token=… (admin page → Screens).";
    document.body.dataset.connection = "unconfigured";
    return;
  }
  socket = new ReconnectingSocket(websocketUrl("/ws/screen", params.get("ws")), {
    onOpen: (send) => {
      send(zoneId ? { type: "register", token, zone_id: zoneId } : { type: "register", token });
      outbox.flush(send);
    },
    onMessage: (frame) => {
      if (frame.type === "state") {
        playback.setPlaylist(frame.playlist);
        if (frame.current) playback.showPushed(frame.current);
      } else if (frame.type === "content") {
        playback.showPushed(frame);
      } else if (frame.type === "error") {
        statusLine.textContent = `Server: ${frame.reason ?? "error"}`;
      }
    },
    onStatus: (status) => {
      document.body.dataset.connection = status;
      statusLine.textContent = status === "online" ? "" : "Reconnecting…";
    },
  });
  socket.start();
}

start();
