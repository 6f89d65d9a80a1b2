// Client-made ids that the server keeps (zones, beacons, screens, campaigns): a readable prefix and
// random hex, e.g. "zone-3fa9c1d2e0". Five bytes make a clash in one store vanishingly unlikely.
export function randomId(prefix, bytes = 5) {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return `${prefix}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
