import { describe, expect, it } from "vitest";
import {
  audienceOfRows,
  documentOf,
  explain,
  rowsOfAudience,
} from "../src/admin/campaign-document.js";

const FORM = {
  id: "campaign-1",
  name: "Cheddar lovers",
  event: "dwell",
  min_dwell_s: "20",
  zone_ids: ["dairy"],
  categories: "",
  channel: "signage",
  title: "Cheddar: 2 for 1",
  body: "",
  image_url: "",
  coupon_code: "",
  start_date: "2026-12-01",
  end_date: "",
  hours: "08:00-12:00, 17:00-20:00",
  during_opening_hours: true,
  per_shopper_per_day: "1",
  max_issued: "",
  holdout_percent: "10",
  audienceRows: [
    { kind: "bought", a: "cheese", b: "60" },
    { kind: "age", a: "30", b: "" },
  ],
};

describe("documentOf", () => {
  it("writes triggers' campaign document", () => {
    const doc = documentOf(FORM);
    expect(doc.context).toEqual({ event: "dwell", min_dwell_s: 20, zone_ids: ["dairy"] });
    expect(doc.schedule).toEqual({
      during_opening_hours: true,
      start_date: "2026-12-01",
      hours: ["08:00-12:00", "17:00-20:00"],
    });
    expect(doc.audience).toEqual({
      all: [{ bought: { category: "cheese", within_days: 60 } }, { age: { min: 30 } }],
    });
    expect(doc.holdout_share).toBeCloseTo(0.1);
    expect(doc.budget).toEqual({ max_issued: null });
    expect(doc.per_shopper_per_day).toBe(1);
  });

  it("keeps the stored id and the parts the form does not show", () => {
    const previous = { id: "old-id", priority: 5, recommendation: { anchor_days: 30 } };
    const doc = documentOf(FORM, previous);
    expect(doc.id).toBe("old-id");
    expect(doc.priority).toBe(5);
    expect(doc.recommendation).toEqual({ anchor_days: 30 });
  });

  it("keeps a richer stored audience when the form holds none of its own", () => {
    const richer = { any: [{ segment: "lapsed" }, { not: { member: true } }] };
    const doc = documentOf({ ...FORM, audienceRows: null }, { audience: richer });
    expect(doc.audience).toEqual(richer);
  });
});

describe("audience rows", () => {
  it("round-trip through the rule tree", () => {
    const rows = [
      { kind: "not_bought", a: "tea", b: "90" },
      { kind: "spent", a: "100", b: "30" },
      { kind: "tier", a: "silver, gold", b: "" },
      { kind: "segment", a: "lapsed", b: "" },
    ];
    expect(rowsOfAudience(audienceOfRows(rows))).toEqual(rows);
    expect(audienceOfRows([])).toBeNull();
  });

  it("refuse a tree richer than a flat list of known conditions", () => {
    expect(rowsOfAudience({ any: [{ segment: "new" }] })).toBeNull();
    expect(rowsOfAudience({ all: [{ member: true }] })).toBeNull();
  });
});

describe("explain", () => {
  it("says the whole campaign in one sentence", () => {
    const sentence = explain(documentOf(FORM), (id) => (id === "dairy" ? "Dairy" : id));
    expect(sentence).toBe(
      "When a shopper who bought cheese in the last 60 days and is aged 30 or over stays in" +
        " Dairy for 20 s, show it on the screen in front of them: “Cheddar: 2 for 1”, at most 1" +
        " a day per shopper; 10% of matching shoppers are held out to measure the uplift.",
    );
  });

  it("warns when nobody is held out", () => {
    const doc = documentOf({ ...FORM, holdout_percent: "0", audienceRows: [] });
    expect(explain(doc)).toContain("When any shopper stays in dairy");
    expect(explain(doc)).toContain("nobody is held out, so its uplift cannot be measured");
  });
});
