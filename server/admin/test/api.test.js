import { describe, expect, it } from "vitest";
import { errorFromBody, websocketUrl } from "../src/api.js";

const ZONE_FIELDS = ["name", "kind", "polygon", "facing_deg"];

describe("errorFromBody", () => {
  it("places FastAPI validation errors on the field their location names", () => {
    const body = {
      detail: [
        { loc: ["body", "name"], msg: "String should have at least 1 character" },
        { loc: ["body", "polygon", 2, 0], msg: "Input should be a finite number" },
      ],
    };
    const error = errorFromBody(422, body, ZONE_FIELDS);
    expect(error.status).toBe(422);
    expect(error.fieldErrors).toEqual({
      name: "String should have at least 1 character",
      polygon: "Input should be a finite number",
    });
  });

  it("keeps errors without a body field for the whole form", () => {
    const error = errorFromBody(422, { detail: [{ loc: ["query", 3], msg: "bad" }] }, []);
    expect(error.fieldErrors).toEqual({});
    expect(error.message).toBe("bad");
  });

  it("places a reason that starts with a known field's name on that field", () => {
    const error = errorFromBody(422, { detail: "polygon invalid: Self-intersection" }, ZONE_FIELDS);
    expect(error.fieldErrors).toEqual({ polygon: "polygon invalid: Self-intersection" });
  });

  it("places the zone route's geometry refusals on the outline", () => {
    const reason = "zone reaches outside floor 7 (40 m × 30 m)";
    expect(errorFromBody(422, { detail: reason }, ZONE_FIELDS).fieldErrors).toEqual({
      polygon: reason,
    });
    const small = "zone area 0.010 m² is below 0.05 m²";
    expect(errorFromBody(422, { detail: small }, ZONE_FIELDS).fieldErrors.polygon).toBe(small);
  });

  it("leaves other reasons for the whole form, with the reason as message", () => {
    const error = errorFromBody(401, { detail: "wrong email or password" }, ["email", "password"]);
    expect(error.fieldErrors).toEqual({});
    expect(error.message).toBe("wrong email or password");
    expect(errorFromBody(502, null).message).toBe("request failed (HTTP 502)");
  });
});

describe("websocketUrl", () => {
  const here = { protocol: "https:", host: "store.example:8443", hostname: "store.example" };

  it("reaches the page's own server by default", () => {
    expect(websocketUrl("/ws/live", null, here)).toBe("wss://store.example:8443/ws/live");
  });

  it("accepts another port of the same host", () => {
    expect(websocketUrl("/ws/screen", "ws://store.example:9000", here)).toBe(
      "ws://store.example:9000/ws/screen",
    );
  });

  it("refuses another host, another scheme or nonsense, and stays on its own server", () => {
    for (const override of ["wss://evil.example", "http://store.example:9000", "not a url"]) {
      expect(websocketUrl("/ws/live", override, here)).toBe("wss://store.example:8443/ws/live");
    }
  });
});
