// Store analytics (issue 9): a date range, the presence or facing heatmap drawn over the floor plan,
// the zone table, the top transitions and the campaign results, each with the k-anonymity sentence
// the server sends, and CSV/PNG downloads. Everything comes from /api/stores/{id}/analytics/*.
import { gridPixels } from "../map/heat-grid.js";
import L from "../map/leaflet-global.js";

// Days shown when the panel first opens: the last week, today included.
export const DEFAULT_DAYS = 7;
// How many transitions the page lists (the CSV has them all).
export const TOP_TRANSITIONS = 10;

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// The grid as a PNG data URL, one pixel a cell (``gridPixels`` lays the rows out north-up).
function gridImage(grid) {
  const { width, height, data } = gridPixels(grid);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(data, width, height), 0, 0);
  return canvas.toDataURL("image/png");
}

function cell(value) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "—" : String(value);
  return td;
}

function row(values) {
  const tr = document.createElement("tr");
  tr.append(...values.map(cell));
  return tr;
}

const percent = (v) => (v === null || v === undefined ? null : `${(v * 100).toFixed(1)} %`);
const seconds = (v) => (v === null || v === undefined ? null : `${v.toFixed(0)} s`);
const points = (v) =>
  v === null || v === undefined ? null : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} pts`;

export class AnalyticsPanel {
  constructor(map, api, context) {
    this.map = map;
    this.api = api;
    this.context = context;
    this.overlay = null;
    this.visible = false;
    this.form = document.getElementById("analytics-form");
    this.status = document.getElementById("analytics-status");
    const today = new Date();
    const first = new Date(today);
    first.setDate(today.getDate() - (DEFAULT_DAYS - 1));
    this.form.elements.from.value = isoDay(first);
    this.form.elements.to.value = isoDay(today);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    this.form.elements.kind.addEventListener("change", () => this.load());
    for (const link of document.querySelectorAll("[data-analytics-download]")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.download(link.dataset.analyticsDownload, link.dataset.format);
      });
    }
  }

  range() {
    const { from, to } = this.form.elements;
    return new URLSearchParams({ from: from.value, to: to.value });
  }

  path(view, extra = {}) {
    const { store, floor } = this.context();
    const query = this.range();
    if (floor && view !== "campaigns") query.set("floor_id", String(floor.id));
    for (const [key, value] of Object.entries(extra)) query.set(key, String(value));
    return `/stores/${store.id}/analytics/${view}?${query}`;
  }

  show(visible) {
    this.visible = visible;
    if (visible) this.load();
    else this.clearOverlay();
  }

  clearOverlay() {
    this.overlay?.remove();
    this.overlay = null;
  }

  async load() {
    const { store, floor } = this.context();
    if (!this.visible || !store) return;
    this.status.textContent = "Loading…";
    const kind = this.form.elements.kind.value;
    try {
      const [heat, zones, paths, campaigns] = await Promise.all([
        floor ? this.api.request("GET", this.path("heatmap", { kind })) : null,
        this.api.request("GET", this.path("zones")),
        this.api.request("GET", this.path("paths")),
        this.api.request("GET", this.path("campaigns")),
      ]);
      this.drawHeatmap(heat);
      this.fillZones(zones);
      this.fillTransitions(paths.transitions);
      this.fillCampaigns(campaigns);
      document.getElementById("analytics-heat-note").textContent = heat ? heat.note : "";
      this.status.textContent = `${this.form.elements.from.value} to ${this.form.elements.to.value}`;
    } catch (error) {
      this.status.textContent = `Could not load analytics: ${error.message}`;
    }
  }

  drawHeatmap(heat) {
    this.clearOverlay();
    if (!heat) return;
    const bounds = L.latLngBounds([0, 0], [heat.height_m, heat.width_m]);
    this.overlay = L.imageOverlay(gridImage(heat.grid), bounds, {
      className: "analytics-heatmap",
      interactive: false,
      opacity: 0.85,
    });
    this.overlay.options.pmIgnore = true;
    this.overlay.addTo(this.map);
    const total =
      heat.table === "heatmap_facing" ? "" : ` · ${Math.round(heat.total_s / 60)} visitor-minutes`;
    document.getElementById("analytics-heat-summary").textContent =
      `${heat.rows.length} cells shown, ${heat.n_suppressed} hidden${total}`;
  }

  fillZones(table) {
    const { zoneName } = this.context();
    document
      .getElementById("analytics-zone-rows")
      .replaceChildren(
        ...table.rows.map((r) =>
          row([
            zoneName(r.zone_id),
            r.suppressed ? "hidden" : r.visitors,
            r.entries,
            seconds(r.median_dwell_s),
            seconds(r.p90_dwell_s),
            percent(r.faced_share),
            percent(r.conversion),
          ]),
        ),
      );
    document.getElementById("analytics-zone-note").textContent = table.note;
  }

  fillTransitions(table) {
    const { zoneName } = this.context();
    const named = (steps) => steps.split(" > ").map(zoneName).join(" → ");
    document
      .getElementById("analytics-transition-rows")
      .replaceChildren(
        ...table.rows
          .slice(0, TOP_TRANSITIONS)
          .map((r) => row([named(r.steps), r.visits, r.visitors])),
      );
    document.getElementById("analytics-transition-note").textContent = table.note;
  }

  fillCampaigns(table) {
    const { zoneName } = this.context();
    const pair = (a, b) => `${a ?? "—"} · ${b ?? "—"}`;
    const money = (v) => (v === null || v === undefined ? "—" : v.toFixed(2));
    // "+13.3 pts" over its interval: short enough for the side panel.
    const uplift = (r) =>
      r.uplift === null
        ? null
        : `${points(r.uplift)}\n${points(r.uplift_low)} … ${points(r.uplift_high)}`;
    // Three columns fit the side panel; the figures stack in the middle one.
    const figures = (r) =>
      [
        `shown ${pair(r.exposed_app, r.exposed_signage)} (app · screen)`,
        `opened ${r.opened ?? "—"} · redeemed ${r.redeemed ?? "—"}`,
        `bought ${r.purchases ?? "—"} · conversion ${percent(r.conversion) ?? "—"}`,
        `AOV ${money(r.average_order_value)}`,
      ].join("\n");
    const rows = table.rows.map((r) => {
      const tr = row([r.zone_id ? `in ${zoneName(r.zone_id)}` : r.name, figures(r), uplift(r)]);
      if (r.zone_id) {
        tr.classList.add("per-zone");
        return [tr];
      }
      const verdict = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 3;
      td.className = r.too_small_to_tell ? "verdict too-small" : "verdict";
      td.textContent = r.suppressed ? "Hidden: too few shoppers (k-anonymity)." : r.verdict;
      verdict.append(td);
      return [tr, verdict];
    });
    document.getElementById("analytics-campaign-rows").replaceChildren(...rows.flat());
    document.getElementById("analytics-campaign-note").textContent = table.note;
  }

  async download(view, format) {
    const kind = this.form.elements.kind.value;
    const extra = view === "heatmap" ? { format, kind } : { format };
    try {
      const blob = await this.api.request("GET", this.path(view, extra), { raw: true });
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${view}-${this.form.elements.from.value}-${this.form.elements.to.value}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      this.status.textContent = `Download failed: ${error.message}`;
    }
  }
}
