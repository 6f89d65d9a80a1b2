// The campaign document (triggers.campaigns.Campaign.to_dict / from_dict) read from and written to
// the campaign form, and the plain-language sentence that explains it back to staff.

export const EVENTS = {
  enter: "enters",
  dwell: "stays in",
  facing: "faces",
  near_screen: "comes near a screen in",
  app_open: "opens the app in",
  visit_end: "leaves the store after visiting",
};

// The audience conditions the form offers; anything else in a stored rule is kept as it is.
export const CONDITIONS = {
  bought: "bought from category",
  not_bought: "has not bought from category",
  spent: "spent at least",
  age: "is aged",
  tier: "has loyalty tier",
  segment: "is in segment",
};

function list(text) {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

function numberOr(text, fallback) {
  return text === "" || text === undefined ? fallback : Number(text);
}

// One audience row {kind, a, b} → one rule node of triggers.audience.
export function ruleOfRow({ kind, a, b }) {
  switch (kind) {
    case "bought":
    case "not_bought":
      return { [kind]: { category: a, within_days: numberOr(b, 30) } };
    case "spent":
      return { spent: { min: numberOr(a, 0), within_days: numberOr(b, 30) } };
    case "age": {
      const bounds = {};
      if (a !== "") bounds.min = Number(a);
      if (b !== "") bounds.max = Number(b);
      return { age: bounds };
    }
    case "tier":
      return { tier: list(a) };
    case "segment":
      return { segment: a };
    default:
      throw new Error(`unknown audience condition ${kind}`);
  }
}

// The inverse, or null when the node is not one the form can show.
export function rowOfRule(node) {
  const [kind] = Object.keys(node ?? {});
  const body = node?.[kind];
  switch (kind) {
    case "bought":
    case "not_bought":
      return body.category ? { kind, a: body.category, b: String(body.within_days ?? "") } : null;
    case "spent":
      return { kind, a: String(body.min ?? ""), b: String(body.within_days ?? "") };
    case "age":
      return { kind, a: String(body.min ?? ""), b: String(body.max ?? "") };
    case "tier":
      return { kind, a: body.join(", "), b: "" };
    case "segment":
      return { kind, a: body, b: "" };
    default:
      return null;
  }
}

// Rows the form can edit, or null when the stored rule is richer than a flat "all of" list.
export function rowsOfAudience(audience) {
  if (audience === null || audience === undefined) return [];
  const nodes = audience.all ?? [audience];
  const rows = nodes.map(rowOfRule);
  return rows.includes(null) ? null : rows;
}

export function audienceOfRows(rows) {
  if (rows.length === 0) return null;
  const nodes = rows.map(ruleOfRow);
  return nodes.length === 1 ? nodes[0] : { all: nodes };
}

// Form values (strings, as inputs hold them) → the campaign document.
export function documentOf(values, previous = {}) {
  const context = { event: values.event };
  if (values.event === "dwell") context.min_dwell_s = numberOr(values.min_dwell_s, 0);
  if (values.zone_ids.length) context.zone_ids = values.zone_ids;
  if (list(values.categories).length) context.categories = list(values.categories);
  const schedule = { during_opening_hours: values.during_opening_hours };
  if (values.start_date) schedule.start_date = values.start_date;
  if (values.end_date) schedule.end_date = values.end_date;
  if (list(values.hours).length) schedule.hours = list(values.hours);
  return {
    ...previous,
    id: previous.id ?? values.id,
    name: values.name,
    context,
    content: {
      ...(previous.content ?? {}),
      title: values.title,
      body: values.body,
      image_url: values.image_url,
      coupon_code: values.coupon_code,
    },
    channel: values.channel,
    schedule,
    audience:
      values.audienceRows === null
        ? (previous.audience ?? null)
        : audienceOfRows(values.audienceRows),
    budget: { ...(previous.budget ?? {}), max_issued: numberOr(values.max_issued, null) },
    per_shopper_per_day: numberOr(values.per_shopper_per_day, null),
    holdout_share: numberOr(values.holdout_percent, 0) / 100,
  };
}

function days(n) {
  return `${n} day${Number(n) === 1 ? "" : "s"}`;
}

export function describeRule(node) {
  const row = rowOfRule(node);
  if (!row) return "matches a custom rule";
  switch (row.kind) {
    case "bought":
      return `bought ${row.a} in the last ${days(row.b || 30)}`;
    case "not_bought":
      return `has not bought ${row.a} in the last ${days(row.b || 30)}`;
    case "spent":
      return `spent at least ${row.a} in the last ${days(row.b || 30)}`;
    case "age":
      if (row.a && row.b) return `is aged ${row.a}–${row.b}`;
      return row.a ? `is aged ${row.a} or over` : `is aged ${row.b} or under`;
    case "tier":
      return `has tier ${row.a}`;
    case "segment":
      return `is a ${row.a} shopper`;
    default:
      return "matches a custom rule";
  }
}

// "When a shopper who … stays in Cheese shelf for 20 s, show “…” on the screen; …"
export function explain(document, zoneName = (id) => id) {
  const { context, audience, channel, content, per_shopper_per_day, holdout_share } = document;
  const nodes = audience ? (audience.all ?? [audience]) : [];
  const who = nodes.length
    ? `a shopper who ${nodes.map(describeRule).join(" and ")}`
    : "any shopper";
  const places = [
    ...(context.zone_ids ?? []).map(zoneName),
    ...(context.categories ?? []).map((c) => `a ${c} zone`),
  ];
  const where = places.length ? ` ${places.join(" or ")}` : " any zone";
  const dwell = context.event === "dwell" ? ` for ${context.min_dwell_s ?? 0} s` : "";
  const verb = EVENTS[context.event] ?? context.event;
  const to = {
    app: "send it to their app",
    signage: "show it on the screen in front of them",
    both: "send it to their app and show it on the screen in front of them",
  }[channel];
  const cap = per_shopper_per_day
    ? `at most ${per_shopper_per_day} a day per shopper`
    : "no daily cap";
  const held = holdout_share
    ? `; ${Math.round(holdout_share * 100)}% of matching shoppers are held out to measure the uplift`
    : "; nobody is held out, so its uplift cannot be measured";
  return `When ${who} ${verb}${where}${dwell}, ${to}: “${content.title || "(no title)"}”, ${cap}${held}.`;
}
