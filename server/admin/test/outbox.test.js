import { describe, expect, it } from "vitest";
import { Outbox } from "../src/player/outbox.js";

function link() {
  const sent = [];
  let online = true;
  return {
    sent,
    send: (frame) => online && sent.push(frame) > 0,
    setOnline: (value) => {
      online = value;
    },
  };
}

describe("Outbox", () => {
  it("sends at once while online", () => {
    const { sent, send } = link();
    const outbox = new Outbox();
    outbox.post("a", send);
    expect(sent).toEqual(["a"]);
    expect(outbox.size).toBe(0);
  });

  it("keeps reports while offline and sends them in order once back", () => {
    const { sent, send, setOnline } = link();
    const outbox = new Outbox();
    setOnline(false);
    outbox.post("a", send);
    outbox.post("b", send);
    setOnline(true);
    outbox.post("c", send); // must not overtake a and b
    expect(sent).toEqual([]);
    outbox.flush(send);
    expect(sent).toEqual(["a", "b", "c"]);
    expect(outbox.size).toBe(0);
  });

  it("drops the oldest beyond its limit", () => {
    const { sent, send, setOnline } = link();
    const outbox = new Outbox(2);
    setOnline(false);
    for (const frame of ["a", "b", "c"]) outbox.post(frame, send);
    setOnline(true);
    outbox.flush(send);
    expect(sent).toEqual(["b", "c"]);
  });
});
