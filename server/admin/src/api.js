// The one place the page talks to the server's REST API (/api/..., docs/protocol.md): base URL,
// bearer token, JSON in and out, and errors turned into ApiError with the field each concerns.

// FastAPI validation errors locate the field as ["body", "name"] or ["body", "polygon", 2, 0];
// our own route checks put a reason in `detail`, which begins with the field's name when it has one
// ("polygon invalid: ...", "name cannot be null").
const FIELD_PREFIX = /^([a-z_]+)\b/;

export class ApiError extends Error {
  // fieldErrors: {fieldName: message}; message: what to show when no field is named.
  constructor(status, message, fieldErrors = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
  }
}

// Only body locations name a form field; query, path and header problems concern the whole request.
function fieldOfLocation(loc) {
  if (!Array.isArray(loc) || loc[0] !== "body") return null;
  return loc.slice(1).find((part) => typeof part === "string") ?? null;
}

// Reads FastAPI's error body: {"detail": "reason"} or {"detail": [{loc, msg}, ...]}.
export function errorFromBody(status, body, knownFields = []) {
  const detail = body?.detail;
  if (Array.isArray(detail)) {
    const fieldErrors = {};
    const general = [];
    for (const item of detail) {
      const field = fieldOfLocation(item.loc);
      if (field && !(field in fieldErrors)) fieldErrors[field] = item.msg;
      else if (!field) general.push(item.msg);
    }
    const message = general.join("; ") || Object.values(fieldErrors).join("; ") || "invalid input";
    return new ApiError(status, message, fieldErrors);
  }
  const reason = typeof detail === "string" ? detail : `request failed (HTTP ${status})`;
  const named = FIELD_PREFIX.exec(reason)?.[1];
  const fieldErrors = named && knownFields.includes(named) ? { [named]: reason } : {};
  if (!named || !knownFields.includes(named)) {
    // "zone area … is below …", "zone reaches outside floor …" concern the outline.
    if (/^zone (area|reaches)/.test(reason) && knownFields.includes("polygon")) {
      fieldErrors.polygon = reason;
    }
  }
  return new ApiError(status, reason, fieldErrors);
}

export class Api {
  constructor(baseUrl = "", token = null) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
  }

  async request(method, path, { json, form, knownFields = [], raw = false } = {}) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // multipart: the browser sets the boundary
    }
    let response;
    try {
      response = await fetch(`${this.baseUrl}/api${path}`, { method, headers, body });
    } catch (error) {
      throw new ApiError(0, `cannot reach the server (${error.message})`);
    }
    if (response.status === 204) return null;
    if (raw && response.ok) return response.blob();
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw errorFromBody(response.status, parsed, knownFields);
    return parsed;
  }

  // ---- accounts ----
  async login(email, password) {
    const reply = await this.request("POST", "/auth/login", {
      json: { email, password },
      knownFields: ["email", "password"],
    });
    this.token = reply.token;
    return reply;
  }
  me() {
    return this.request("GET", "/auth/me");
  }

  // ---- stores and floors ----
  listStores() {
    return this.request("GET", "/stores");
  }
  createStore(store) {
    return this.request("POST", "/stores", { json: store, knownFields: ["name", "timezone"] });
  }
  listFloors(storeId) {
    return this.request("GET", `/stores/${storeId}/floors`);
  }
  createFloor(storeId, floor) {
    return this.request("POST", `/stores/${storeId}/floors`, {
      json: floor,
      knownFields: ["name", "width_m", "height_m"],
    });
  }
  uploadPlanImage(storeId, floorId, file) {
    const form = new FormData();
    form.append("image", file);
    return this.request("PUT", `/stores/${storeId}/floors/${floorId}/image`, {
      form,
      knownFields: ["image"],
    });
  }
  planImage(storeId, floorId) {
    return this.request("GET", `/stores/${storeId}/floors/${floorId}/image`, { raw: true });
  }

  // ---- zones ----
  listZones(storeId) {
    return this.request("GET", `/stores/${storeId}/zones`);
  }
  createZone(storeId, zone) {
    return this.request("POST", `/stores/${storeId}/zones`, {
      json: zone,
      knownFields: ZONE_FIELDS,
    });
  }
  updateZone(storeId, zoneId, changes) {
    return this.request("PATCH", `/stores/${storeId}/zones/${encodeURIComponent(zoneId)}`, {
      json: changes,
      knownFields: ZONE_FIELDS,
    });
  }
  deleteZone(storeId, zoneId) {
    return this.request("DELETE", `/stores/${storeId}/zones/${encodeURIComponent(zoneId)}`);
  }
  zoneVersions(storeId, zoneId) {
    return this.request("GET", `/stores/${storeId}/zones/${encodeURIComponent(zoneId)}/versions`);
  }
  restoreZoneVersion(storeId, zoneId, version) {
    const path = `/stores/${storeId}/zones/${encodeURIComponent(zoneId)}/versions/${version}/restore`;
    return this.request("POST", path);
  }

  // ---- beacons and screens ----
  listBeacons(storeId) {
    return this.request("GET", `/stores/${storeId}/beacons`);
  }
  createBeacon(storeId, beacon) {
    return this.request("POST", `/stores/${storeId}/beacons`, {
      json: beacon,
      knownFields: ["id", "x", "y", "tx_power_dbm", "floor_id"],
    });
  }
  updateBeacon(storeId, beaconId, changes) {
    return this.request("PATCH", `/stores/${storeId}/beacons/${encodeURIComponent(beaconId)}`, {
      json: changes,
      knownFields: ["x", "y", "tx_power_dbm", "floor_id"],
    });
  }
  deleteBeacon(storeId, beaconId) {
    return this.request("DELETE", `/stores/${storeId}/beacons/${encodeURIComponent(beaconId)}`);
  }
  listScreens(storeId) {
    return this.request("GET", `/stores/${storeId}/screens`);
  }
  createScreen(storeId, screen) {
    return this.request("POST", `/stores/${storeId}/screens`, {
      json: screen,
      knownFields: SCREEN_FIELDS,
    });
  }
  updateScreen(storeId, screenId, changes) {
    return this.request("PATCH", `/stores/${storeId}/screens/${encodeURIComponent(screenId)}`, {
      json: changes,
      knownFields: SCREEN_FIELDS,
    });
  }
  deleteScreen(storeId, screenId) {
    return this.request("DELETE", `/stores/${storeId}/screens/${encodeURIComponent(screenId)}`);
  }
  createScreenToken(storeId, screenId, label = "") {
    return this.request("POST", "/tokens", {
      json: { kind: "screen", store_id: storeId, screen_id: screenId, label },
    });
  }

  // ---- campaigns ----
  listCampaigns(storeId) {
    return this.request("GET", `/stores/${storeId}/campaigns`);
  }
  createCampaign(storeId, campaign) {
    return this.request("POST", `/stores/${storeId}/campaigns`, {
      json: campaign,
      knownFields: CAMPAIGN_FIELDS,
    });
  }
  updateCampaign(storeId, campaignId, changes) {
    return this.request("PATCH", `/stores/${storeId}/campaigns/${campaignId}`, {
      json: changes,
      knownFields: CAMPAIGN_FIELDS,
    });
  }
  // Whether the server offers a route, from its OpenAPI document (read once): lets the page leave
  // out what an older server lacks instead of calling it and failing.
  async offers(method, pathTemplate) {
    this.openApi ??= fetch(`${this.baseUrl}/openapi.json`)
      .then((response) => (response.ok ? response.json() : { paths: {} }))
      .catch(() => ({ paths: {} }));
    const spec = await this.openApi;
    return Boolean(spec.paths?.[`/api${pathTemplate}`]?.[method.toLowerCase()]);
  }

  // How many customers the campaign would reach now ({count, in_store, ...}); nothing is stored.
  previewCampaign(storeId, campaign) {
    return this.request("POST", `/stores/${storeId}/campaigns/preview`, {
      json: campaign,
      knownFields: CAMPAIGN_FIELDS,
    });
  }

  // ---- activity ----
  listOffers(storeId) {
    return this.request("GET", `/stores/${storeId}/offers`);
  }
}

const ZONE_FIELDS = [
  "id",
  "floor_id",
  "name",
  "kind",
  "polygon",
  "categories",
  "skus",
  "facing_deg",
  "view_distance_m",
];
const SCREEN_FIELDS = ["id", "floor_id", "zone_id", "name", "x", "y", "facing_deg", "playlist"];
const CAMPAIGN_FIELDS = ["name", "status", "document"];

// ws:// or wss:// URL of a websocket endpoint on the page's own server. An override (?ws= on the
// page's address, for a server on another port) must name the page's own host: a link that points
// the page at another host would hand that host the staff or screen token.
export function websocketUrl(path, override = null, here = location) {
  const scheme = here.protocol === "https:" ? "wss:" : "ws:";
  const own = `${scheme}//${here.host}${path}`;
  if (!override) return own;
  let target;
  try {
    target = new URL(override);
  } catch {
    return own;
  }
  const websocket = target.protocol === "ws:" || target.protocol === "wss:";
  if (!websocket || target.hostname !== here.hostname) return own;
  return `${target.protocol}//${target.host}${path}`;
}
