// Proof-of-play reports waiting for a connection: sent in order once the screen is back, never lost
// to a short outage, bounded so a screen offline for days does not grow without end.

// A day of 10-second items is 8,640 reports; beyond this the oldest are dropped.
export const MAX_UNSENT_REPORTS = 10_000;

export class Outbox {
  constructor(limit = MAX_UNSENT_REPORTS) {
    this.limit = limit;
    this.waiting = [];
  }

  // send(frame) → true when it went out. Keeps order: nothing overtakes what is already waiting.
  post(frame, send) {
    if (this.waiting.length === 0 && send(frame)) return;
    this.waiting.push(frame);
    if (this.waiting.length > this.limit) this.waiting.shift();
  }

  flush(send) {
    while (this.waiting.length && send(this.waiting[0])) this.waiting.shift();
  }

  get size() {
    return this.waiting.length;
  }
}
