"""The campaign form: it explains itself in one sentence, counts who it would reach, and saves the
document in triggers' campaign format."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.admin.conftest import log_in, screenshot
from tests.admin.fake_store import FakeStore


def test_campaign_form_explains_counts_and_saves_the_triggers_document(
    page: Page, site: str, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    # The zone list answers after the form is drawn (a loaded server): the form must still
    # offer the floor's zones.
    fake_store.delays_s[("GET", "/api/stores/1/zones")] = 1.0
    log_in(page, site)
    page.get_by_role("tab", name="Campaigns").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Cheddar lovers")
    form.get_by_label("The shopper…").select_option("dwell")
    form.get_by_label("for at least (s)").fill("20")
    form.get_by_label("in zones").select_option("dairy", timeout=10_000)
    form.get_by_label("Title").fill("Cheddar: 2 for 1")
    page.get_by_role("button", name="Add condition").click()
    form.get_by_label("Condition", exact=True).select_option("age")
    form.get_by_label("from age").fill("30")
    form.get_by_label("to age").fill("50")

    summary = page.locator("#campaign-summary")
    expect(summary).to_contain_text("When a shopper who is aged 30–50 stays in Dairy for 20 s")
    expect(summary).to_contain_text("send it to their app: “Cheddar: 2 for 1”")
    expect(summary).to_contain_text("10% of matching shoppers are held out")
    # Customers aged 25, 35, 45 and 60 (35 and 60 in the store): two fit 30–50, three fit 30 and
    # over.
    preview = page.locator("#campaign-preview")
    expect(preview).to_have_text("2 customers (1 in the store now)")
    form.get_by_label("to age").fill("")
    expect(preview).to_have_text("3 customers (2 in the store now)")
    expect(summary).to_contain_text("is aged 30 or over")
    page.locator("#panel").evaluate("panel => panel.scrollTo(0, 0)")
    screenshot(page, "campaigns")

    page.get_by_role("button", name="Save campaign").click()
    expect(page.locator("#campaign-saved")).to_have_text("Saved (version 1)")
    body = fake_store.sent("POST", "/api/stores/1/campaigns")[0]
    assert body["name"] == "Cheddar lovers"
    assert body["status"] == "draft"
    document = body["document"]
    assert document["id"].startswith("campaign-")
    assert document["context"] == {"event": "dwell", "min_dwell_s": 20, "zone_ids": ["dairy"]}
    assert document["audience"] == {"age": {"min": 30}}
    assert document["channel"] == "app"
    assert document["content"]["title"] == "Cheddar: 2 for 1"
    assert document["per_shopper_per_day"] == 1
    assert document["holdout_share"] == 0.1
    assert document["schedule"] == {"during_opening_hours": True}
    expect(page.locator("#campaign-select")).to_have_value("1")


def test_without_a_preview_route_the_form_says_so_and_calls_nothing(
    page: Page, site: str, fake_store: FakeStore
) -> None:
    fake_store.has_preview = False
    log_in(page, site)
    page.get_by_role("tab", name="Campaigns").click()
    page.locator("#campaign-form").get_by_label("Name").fill("Anything")
    expect(page.locator("#campaign-preview")).to_have_text("not available on this server yet")
    assert fake_store.sent("POST", "/api/stores/1/campaigns/preview") == []


def test_a_late_campaign_list_keeps_what_staff_already_typed(
    page: Page, site: str, fake_store: FakeStore
) -> None:
    fake_store.campaigns[1] = {
        "id": 1,
        "store_id": 1,
        "version": 1,
        "created_ms": 0,
        "updated_ms": 0,
        "status": "draft",
        "name": "Stored campaign",
        "document": {},
    }
    fake_store.delays_s[("GET", "/api/stores/1/campaigns")] = 1.0
    log_in(page, site)
    page.get_by_role("tab", name="Campaigns").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Typed while the list was loading")

    # The list has arrived once its campaign is in the picker; the draft must have survived it.
    expect(page.locator("#campaign-select option")).to_have_count(2)
    expect(form.get_by_label("Name")).to_have_value("Typed while the list was loading")
