// What the screen shows: the playlist on a loop, interrupted by pushed content for its time. Every
// item that leaves the screen is reported as played (proof of play) with when it started and how long
// it was actually shown.

// Shown when the server's playlist is empty, so a screen is never blank.
export const HOUSE_PLAYLIST = [
  { content_id: "house-welcome", title: "Welcome", body: "", media_url: null, duration_s: 10 },
];
// Pushed content without its own end time stays this long: long enough to read an offer.
export const DEFAULT_PUSHED_S = 10;
// Pushed content never holds the screen longer than this, whatever a clock skew says.
export const MAX_PUSHED_S = 300;

function contentIdOf(content, playId) {
  return content.content_id ?? content.id ?? playId ?? "pushed";
}

export class Playback {
  // render(content, source) draws; reportPlayed(frame) sends proof of play; nowMs() reads the clock.
  constructor({ render, reportPlayed, nowMs = () => Date.now() }) {
    this.render = render;
    this.reportPlayed = reportPlayed;
    this.nowMs = nowMs;
    this.playlist = HOUSE_PLAYLIST;
    this.index = -1;
    this.showing = null; // {content, playId, source, startedMs}
    this.timer = null;
  }

  setPlaylist(items) {
    this.playlist = items?.length ? items : HOUSE_PLAYLIST;
    if (!this.showing || this.showing.source === "playlist") {
      this.index = -1;
      this.next();
    }
  }

  // A pushed "content" frame (or the "current" of a state frame): {play_id, content, until_ms}.
  showPushed({ play_id: playId = null, content, until_ms: untilMs = null }) {
    const fallbackMs = (content.duration_s ?? DEFAULT_PUSHED_S) * 1000;
    const wantedMs = untilMs === null ? fallbackMs : untilMs - this.nowMs();
    const durationMs = Math.min(Math.max(wantedMs, 0), MAX_PUSHED_S * 1000);
    if (durationMs <= 0) return;
    this.show(content, playId, "pushed", durationMs);
  }

  next() {
    this.index = (this.index + 1) % this.playlist.length;
    const item = this.playlist[this.index];
    this.show(item, null, "playlist", (item.duration_s ?? DEFAULT_PUSHED_S) * 1000);
  }

  show(content, playId, source, durationMs) {
    this.finish();
    this.showing = { content, playId, source, startedMs: this.nowMs() };
    this.render(content, source);
    this.timer = setTimeout(() => {
      this.finish();
      this.next();
    }, durationMs);
  }

  finish() {
    clearTimeout(this.timer);
    if (!this.showing) return;
    const { content, playId, startedMs } = this.showing;
    this.showing = null;
    const frame = {
      type: "played",
      content_id: String(contentIdOf(content, playId)),
      started_ms: startedMs,
      duration_ms: Math.max(0, Math.round(this.nowMs() - startedMs)),
    };
    if (playId) frame.play_id = playId;
    this.reportPlayed(frame);
  }
}
