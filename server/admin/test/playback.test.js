import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HOUSE_PLAYLIST, MAX_PUSHED_S, Playback } from "../src/player/playback.js";
import { retryDelayMs, FIRST_RETRY_MS, MAX_RETRY_MS } from "../src/reconnect.js";

function player() {
  const shown = [];
  const played = [];
  const playback = new Playback({
    render: (content, source) => shown.push([content.content_id ?? content.title, source]),
    reportPlayed: (frame) => played.push(frame),
    nowMs: () => Date.now(),
  });
  return { playback, shown, played };
}

describe("Playback", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_800_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it("loops the playlist, reporting each item with the time it was shown", () => {
    const { playback, shown, played } = player();
    playback.setPlaylist([
      { content_id: "a", duration_s: 5 },
      { content_id: "b", duration_s: 3 },
    ]);
    vi.advanceTimersByTime(5000 + 3000 + 1000);
    expect(shown.map(([id]) => id)).toEqual(["a", "b", "a"]);
    expect(played.map((p) => [p.content_id, p.duration_ms])).toEqual([
      ["a", 5000],
      ["b", 3000],
    ]);
    expect(played[1].started_ms).toBe(1_800_000_005_000);
  });

  it("interrupts for pushed content until its end time, then resumes the playlist", () => {
    const { playback, shown, played } = player();
    playback.setPlaylist([{ content_id: "a", duration_s: 30 }]);
    vi.advanceTimersByTime(2000);
    playback.showPushed({
      play_id: "p1",
      content: { title: "Offer" },
      until_ms: Date.now() + 4000,
    });
    expect(shown.at(-1)).toEqual(["Offer", "pushed"]);
    vi.advanceTimersByTime(4000);
    expect(shown.at(-1)).toEqual(["a", "playlist"]);
    expect(played).toEqual([
      { type: "played", content_id: "a", started_ms: 1_800_000_000_000, duration_ms: 2000 },
      {
        type: "played",
        content_id: "p1",
        play_id: "p1",
        started_ms: 1_800_000_002_000,
        duration_ms: 4000,
      },
    ]);
  });

  it("ignores pushed content whose time is already over, and caps a far end time", () => {
    const { playback, shown } = player();
    playback.setPlaylist([]);
    expect(shown).toEqual([[HOUSE_PLAYLIST[0].content_id, "playlist"]]);
    playback.showPushed({ play_id: "late", content: { title: "Late" }, until_ms: Date.now() - 1 });
    expect(shown).toHaveLength(1);
    playback.showPushed({ play_id: "far", content: { title: "Far" }, until_ms: Date.now() + 1e9 });
    vi.advanceTimersByTime(MAX_PUSHED_S * 1000);
    expect(shown.at(-1)[1]).toBe("playlist");
  });
});

describe("retryDelayMs", () => {
  it("doubles from the first retry up to the cap, with half of it random", () => {
    expect(retryDelayMs(0, () => 0)).toBe(FIRST_RETRY_MS / 2);
    expect(retryDelayMs(0, () => 1)).toBe(FIRST_RETRY_MS);
    expect(retryDelayMs(3, () => 1)).toBe(FIRST_RETRY_MS * 8);
    expect(retryDelayMs(30, () => 1)).toBe(MAX_RETRY_MS);
    expect(retryDelayMs(30, () => 0)).toBe(MAX_RETRY_MS / 2);
  });
});
