// Campaigns: a form that says in one sentence what the campaign will do, and how many shoppers it
// would reach right now, as staff edit it.
import { clearErrors, showErrors } from "../form-errors.js";
import { randomId } from "../ids.js";
import { CONDITIONS, documentOf, explain, rowsOfAudience } from "./campaign-document.js";

// Wait this long after the last keystroke before asking the server for a preview count.
export const PREVIEW_DEBOUNCE_MS = 400;

const ROW_HINTS = {
  bought: ["category", "within days"],
  not_bought: ["category", "within days"],
  spent: ["amount", "within days"],
  age: ["from age", "to age"],
  tier: ["tiers, e.g. silver, gold", ""],
  segment: ["new, frequent or lapsed", ""],
};

// The server's preview ({count, in_store}) in words.
export function previewText({ count, in_store }) {
  return `${count} customer${count === 1 ? "" : "s"} (${in_store} in the store now)`;
}

export class CampaignsPanel {
  constructor(api, context) {
    this.api = api;
    this.context = context;
    this.campaigns = [];
    this.current = null; // the stored campaign being edited, or null for a new one
    this.previewTimer = null;
    this.form = document.getElementById("campaign-form");
    this.select = document.getElementById("campaign-select");
    this.rows = document.getElementById("audience-rows");
    this.audienceRicher = false;
    this.select.addEventListener("change", () =>
      this.show(this.campaigns.find((c) => String(c.id) === this.select.value) ?? null),
    );
    document.getElementById("campaign-new").addEventListener("click", () => this.show(null));
    document.getElementById("audience-add").addEventListener("click", () => {
      this.addRow({ kind: "bought", a: "", b: "30" });
      this.edited();
    });
    // Set once staff type into the form; a campaign list that arrives late must not wipe it.
    this.touched = false;
    this.form.addEventListener("input", () => {
      this.touched = true;
      this.edited();
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
  }

  async load() {
    const { api, store } = this.context();
    try {
      this.campaigns = store ? await api.listCampaigns(store.id) : [];
    } catch (error) {
      showErrors(this.form, error);
      return;
    }
    this.fillSelect();
    if (this.touched) this.select.value = this.current ? String(this.current.id) : "";
    else this.show(this.campaigns[0] ?? null);
  }

  fillSelect() {
    const options = this.campaigns.map((c) => new Option(`${c.name} (${c.status})`, String(c.id)));
    options.push(new Option("— new campaign —", ""));
    this.select.replaceChildren(...options);
  }

  show(campaign) {
    this.current = campaign;
    this.touched = false;
    this.select.value = campaign ? String(campaign.id) : "";
    clearErrors(this.form);
    document.getElementById("campaign-saved").textContent = "";
    const doc = campaign?.document ?? {};
    const f = this.form.elements;
    f.name.value = campaign?.name ?? "";
    f.status.value = campaign?.status ?? "draft";
    f.event.value = doc.context?.event ?? "dwell";
    f.min_dwell_s.value = doc.context?.min_dwell_s ?? 20;
    this.fillZones(doc.context?.zone_ids ?? []);
    f.categories.value = (doc.context?.categories ?? []).join(", ");
    f.channel.value = doc.channel ?? "app";
    f.title.value = doc.content?.title ?? "";
    f.body.value = doc.content?.body ?? "";
    f.image_url.value = doc.content?.image_url ?? "";
    f.coupon_code.value = doc.content?.coupon_code ?? "";
    f.start_date.value = doc.schedule?.start_date ?? "";
    f.end_date.value = doc.schedule?.end_date ?? "";
    f.hours.value = (doc.schedule?.hours ?? []).join(", ");
    f.during_opening_hours.checked = doc.schedule?.during_opening_hours ?? true;
    f.per_shopper_per_day.value = doc.per_shopper_per_day ?? (campaign ? "" : 1);
    f.max_issued.value = doc.budget?.max_issued ?? "";
    f.holdout_percent.value = Math.round((doc.holdout_share ?? (campaign ? 0 : 0.1)) * 100);
    const rows = rowsOfAudience(doc.audience);
    this.audienceRicher = rows === null;
    document.getElementById("audience-custom").hidden = !this.audienceRicher;
    this.rows.replaceChildren();
    for (const row of rows ?? []) this.addRow(row);
    this.edited();
  }

  // The floor's zones arrived or changed after the form was drawn: offer them, keeping what is
  // chosen (or, before any edit, what the shown campaign names).
  zonesChanged() {
    const chosen = Array.from(this.form.elements.zone_ids.selectedOptions, (o) => o.value);
    this.fillZones(this.touched ? chosen : (this.current?.document?.context?.zone_ids ?? chosen));
  }

  fillZones(selected) {
    const zones = this.context().zones();
    const select = this.form.elements.zone_ids;
    select.replaceChildren(
      ...zones.map(
        (z) => new Option(`${z.name} (${z.kind})`, z.id, false, selected.includes(z.id)),
      ),
    );
  }

  addRow({ kind, a, b }) {
    const row = document.createElement("div");
    row.className = "audience-row";
    const kindSelect = document.createElement("select");
    kindSelect.setAttribute("aria-label", "Condition");
    for (const [value, label] of Object.entries(CONDITIONS))
      kindSelect.add(new Option(label, value));
    kindSelect.value = kind;
    const first = document.createElement("input");
    const second = document.createElement("input");
    const hint = () => {
      [first.placeholder, second.placeholder] = ROW_HINTS[kindSelect.value];
      first.setAttribute("aria-label", first.placeholder);
      second.setAttribute("aria-label", second.placeholder || "unused");
      second.hidden = !second.placeholder;
    };
    first.value = a;
    second.value = b;
    kindSelect.addEventListener("change", hint);
    hint();
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", "Remove condition");
    remove.addEventListener("click", () => {
      row.remove();
      this.edited();
    });
    row.append(kindSelect, first, second, remove);
    this.rows.append(row);
  }

  audienceRows() {
    const rows = Array.from(this.rows.children, (row) => {
      const [kind, a, b] = row.querySelectorAll("select, input");
      return { kind: kind.value, a: a.value.trim(), b: b.value.trim() };
    });
    // A richer stored rule stays untouched until staff add conditions of their own.
    return rows.length === 0 && this.audienceRicher ? null : rows;
  }

  document() {
    const f = this.form.elements;
    const values = {
      id: randomId("campaign", 4),
      name: f.name.value,
      event: f.event.value,
      min_dwell_s: f.min_dwell_s.value,
      zone_ids: Array.from(f.zone_ids.selectedOptions, (o) => o.value),
      categories: f.categories.value,
      channel: f.channel.value,
      title: f.title.value,
      body: f.body.value,
      image_url: f.image_url.value,
      coupon_code: f.coupon_code.value,
      start_date: f.start_date.value,
      end_date: f.end_date.value,
      hours: f.hours.value,
      during_opening_hours: f.during_opening_hours.checked,
      per_shopper_per_day: f.per_shopper_per_day.value,
      max_issued: f.max_issued.value,
      holdout_percent: f.holdout_percent.value,
      audienceRows: this.audienceRows(),
    };
    return documentOf(values, this.current?.document ?? {});
  }

  edited() {
    const f = this.form.elements;
    this.form.querySelector(".dwell-only").hidden = f.event.value !== "dwell";
    const doc = this.document();
    document.getElementById("campaign-summary").textContent = explain(doc, this.context().zoneName);
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.preview(doc), PREVIEW_DEBOUNCE_MS);
  }

  async preview(doc) {
    const { api, store } = this.context();
    const out = document.getElementById("campaign-preview");
    if (!(await api.offers("POST", "/stores/{store_id}/campaigns/preview"))) {
      out.textContent = "not available on this server yet";
      return;
    }
    try {
      const reply = await api.previewCampaign(store.id, { name: doc.name, document: doc });
      out.textContent = previewText(reply);
      out.dataset.count = String(reply.count);
    } catch (error) {
      out.textContent = error.message;
    }
  }

  async save() {
    const { api, store } = this.context();
    const f = this.form.elements;
    clearErrors(this.form);
    const body = { name: f.name.value, status: f.status.value, document: this.document() };
    try {
      const stored = this.current
        ? await api.updateCampaign(store.id, this.current.id, body)
        : await api.createCampaign(store.id, body);
      const index = this.campaigns.findIndex((c) => c.id === stored.id);
      if (index >= 0) this.campaigns[index] = stored;
      else this.campaigns.push(stored);
      this.current = stored;
      this.fillSelect();
      this.select.value = String(stored.id);
      document.getElementById("campaign-saved").textContent = `Saved (version ${stored.version})`;
    } catch (error) {
      showErrors(this.form, error);
    }
  }
}
