"""Drawing zones on the floor plan in a real browser: metre coordinates, facing, snapping, overlaps,
and server errors beside the field they concern."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page, expect

from tests.admin.conftest import PlanView, log_in, screenshot
from tests.admin.fake_store import FakeStore


def save_zone(page: Page) -> None:
    page.get_by_role("button", name="Save zone").click()


def saved_polygon(fake_store: FakeStore) -> list[list[float]]:
    bodies = fake_store.sent("POST", "/api/stores/1/zones")
    assert len(bodies) == 1
    return bodies[0]["polygon"]


def test_rectangle_drawn_by_two_clicks_is_saved_in_metres(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Draw rectangle").click()
    plan.click(5.0, 4.0)
    plan.click(17.0, 12.0)
    expect(page.locator("#zone-form")).to_be_visible()
    save_zone(page)
    expect(page.locator("#zone-saved")).to_have_text("Saved (version 1)")

    # One screen pixel is the finest a click can place a corner.
    tolerance_m = 1.5 * plan.metres_per_pixel()
    corners = sorted(map(tuple, saved_polygon(fake_store)))
    expected = sorted([(5.0, 4.0), (17.0, 4.0), (17.0, 12.0), (5.0, 12.0)])
    assert len(corners) == 4
    for (x, y), (ex, ey) in zip(corners, expected, strict=True):
        assert x == pytest.approx(ex, abs=tolerance_m)
        assert y == pytest.approx(ey, abs=tolerance_m)


def test_polygon_closed_on_its_first_corner_keeps_every_corner(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Draw polygon").click()
    corners = [(22.0, 5.0), (32.0, 5.0), (35.0, 14.0), (24.0, 18.0)]
    for x, y in [*corners, corners[0]]:
        plan.click(x, y)
    expect(page.locator("#zone-form")).to_be_visible()
    page.locator("#zone-form").get_by_label("Name").fill("Fresh produce")
    page.locator("#zone-form").get_by_label("Categories").fill("fruit, vegetables")
    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved")

    body = fake_store.sent("POST", "/api/stores/1/zones")[0]
    assert body["name"] == "Fresh produce"
    assert body["categories"] == ["fruit", "vegetables"]
    assert body["kind"] == "area"
    assert body["floor_id"] == 7
    tolerance_m = 1.5 * plan.metres_per_pixel()
    assert len(body["polygon"]) == len(corners)
    for (x, y), (ex, ey) in zip(body["polygon"], corners, strict=True):
        assert x == pytest.approx(ex, abs=tolerance_m)
        assert y == pytest.approx(ey, abs=tolerance_m)


def test_dragging_the_facing_arrow_sets_facing_and_viewing_distance(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("shelf-1", "Cheese shelf", [[10, 10], [20, 10], [20, 12], [10, 12]])
    log_in(page, site)
    plan.click(15.0, 11.0)  # select the shelf
    page.locator("#zone-form").get_by_label("Kind").select_option("shelf")
    handle = page.locator(".facing-handle")
    expect(handle).to_be_visible()

    # Stand 3 m south of the shelf's front edge (y = 10): the shopper looks north, at 90°.
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    target = plan.pixel(15.0, 7.0)
    page.mouse.move(*target, steps=8)
    page.mouse.up()

    tolerance_m = 1.5 * plan.metres_per_pixel()
    facing = float(page.locator("#zone-form").get_by_label("Facing direction").input_value())
    distance = float(page.locator("#zone-form").get_by_label("Viewing distance").input_value())
    assert facing == pytest.approx(90.0, abs=math.degrees(tolerance_m / 4.0))
    assert distance == pytest.approx(3.0, abs=tolerance_m)

    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved (version 2)")
    body = fake_store.sent("PATCH", "/api/stores/1/zones/shelf-1")[0]
    assert body["kind"] == "shelf"
    assert body["facing_deg"] == pytest.approx(facing)
    assert body["view_distance_m"] == pytest.approx(distance)
    screenshot(page, "zones-facing")


def test_typed_facing_moves_the_arrow_to_the_other_side(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone(
        "screen-zone",
        "Screen front",
        [[10, 10], [14, 10], [14, 14], [10, 14]],
        kind="screen",
        facing_deg=90.0,
        view_distance_m=2.0,
    )
    log_in(page, site)
    plan.click(12.0, 12.0)
    facing = page.locator("#zone-form").get_by_label("Facing direction")
    # Retyped key by key: the field must not snap back while it is briefly empty.
    facing.fill("")
    facing.press_sequentially("180")  # the shopper looks west, so stands east of the screen
    expect(facing).to_have_value("180")
    box = page.locator(".facing-handle").bounding_box()
    assert box is not None
    x, y = plan.metres(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tolerance_m = 1.5 * plan.metres_per_pixel()
    assert x == pytest.approx(14.0 + 2.0, abs=tolerance_m)
    assert y == pytest.approx(12.0, abs=tolerance_m)


def test_corners_snap_to_a_neighbours_vertex_and_edge(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    near = 6 * plan.metres_per_pixel()  # six pixels off: within the snapping reach
    page.get_by_role("button", name="Draw polygon").click()
    corners = [(20.0 + near, 10.0 - near), (30.0, 10.0), (30.0, 15.0), (20.0 + near, 15.0)]
    for x, y in [*corners, corners[0]]:
        plan.click(x, y)
    expect(page.locator("#zone-form")).to_be_visible()
    # Snapped onto the neighbour's corner and edge, the zones touch without overlapping.
    expect(page.locator("#overlap-warning")).to_be_hidden()
    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved")
    polygon = saved_polygon(fake_store)
    assert polygon[0] == [20.0, 10.0]  # the vertex, to the centimetre
    assert polygon[3][0] == 20.0  # on the edge x = 20
    assert polygon[3][1] == pytest.approx(15.0, abs=1.5 * plan.metres_per_pixel())


def test_overlapping_zone_is_warned_about_with_its_area(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    page.get_by_role("button", name="Draw rectangle").click()
    plan.click(15.0, 15.0)
    plan.click(25.0, 25.0)
    warning = page.locator("#overlap-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Dairy")
    area = float(warning.inner_text().split(" by ")[1].split(" m²")[0])
    # 5 m × 5 m shared, give or take a pixel on each side.
    assert area == pytest.approx(25.0, abs=10 * 2 * plan.metres_per_pixel())
    screenshot(page, "zones-overlap")


def test_server_refusals_appear_beside_their_field(
    page: Page,
    site: str,
    plan: PlanView,
    fake_store: FakeStore,
    expected_console_errors: list[str],
) -> None:
    expected_console_errors.append("status of 422")
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    plan.click(15.0, 15.0)
    page.locator("#zone-form").get_by_label("Name").fill("")
    save_zone(page)
    expect(page.locator('#zone-form [data-error-for="name"]')).to_contain_text(
        "at least 1 character"
    )
    expect(page.locator("#zone-form").get_by_label("Name")).to_have_attribute(
        "aria-invalid", "true"
    )

    page.locator("#zone-form").get_by_label("Name").fill("Dairy")
    page.get_by_role("button", name="Draw rectangle").click()
    plan.click(35.0, 25.0)
    plan.click(39.9, 29.9)
    fake_store.width_m = 38.0  # the floor shrank on the server: the new zone now pokes out
    save_zone(page)
    expect(page.locator('#zone-form [data-error-for="polygon"]')).to_contain_text("outside floor")
    expect(page.locator('#zone-form [data-error-for="name"]')).to_have_text("")


def test_deleting_a_saved_zone_deletes_it_on_the_server(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    plan.click(15.0, 15.0)
    page.get_by_role("button", name="Delete zone").click()
    expect(page.locator("#zone-form")).to_be_hidden()
    assert "dairy" not in fake_store.zones
    expect(page.locator(".zone-label")).to_have_count(0)


def drag(page: Page, plan: PlanView, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*plan.pixel(*start))
    page.mouse.down()
    page.mouse.move(*plan.pixel(*end), steps=10)
    page.mouse.up()


def test_dragging_a_corner_reshapes_the_zone(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    plan.click(15.0, 15.0)
    drag(page, plan, (20.0, 20.0), (24.0, 23.0))
    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved (version 2)")
    polygon = fake_store.sent("PATCH", "/api/stores/1/zones/dairy")[0]["polygon"]
    tolerance_m = 1.5 * plan.metres_per_pixel()
    moved = [p for p in polygon if p[0] > 21]
    assert len(moved) == 1
    assert moved[0] == [pytest.approx(24.0, abs=tolerance_m), pytest.approx(23.0, abs=tolerance_m)]
    assert sorted(map(tuple, (p for p in polygon if p[0] <= 21))) == [(10, 10), (10, 20), (20, 10)]


def test_dragging_inside_a_zone_moves_it_whole(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    plan.click(15.0, 15.0)
    page.get_by_role("button", name="Move zone").click()
    drag(page, plan, (13.0, 13.0), (18.0, 11.0))  # 5 m east, 2 m south
    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved (version 2)")
    polygon = fake_store.sent("PATCH", "/api/stores/1/zones/dairy")[0]["polygon"]
    tolerance_m = 1.5 * plan.metres_per_pixel()
    expected = [[15, 8], [25, 8], [25, 18], [15, 18]]
    for (x, y), (ex, ey) in zip(polygon, expected, strict=True):
        assert x == pytest.approx(ex, abs=tolerance_m)
        assert y == pytest.approx(ey, abs=tolerance_m)


def test_restoring_an_old_version_brings_back_its_outline(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    fake_store.add_zone("dairy", "Dairy", [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    plan.click(15.0, 15.0)
    page.locator("#zone-form").get_by_label("Name").fill("Dairy and eggs")
    drag(page, plan, (20.0, 20.0), (26.0, 24.0))
    save_zone(page)
    expect(page.locator("#zone-saved")).to_have_text("Saved (version 2)")
    page.get_by_text("Version history").click()
    history = page.locator("#zone-versions li")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("v1 create")

    history.first.get_by_role("button", name="Restore").click()
    expect(page.locator("#zone-form").get_by_label("Name")).to_have_value("Dairy")
    expect(history).to_have_count(3)
    assert fake_store.zones["dairy"]["polygon"] == [[10, 10], [20, 10], [20, 20], [10, 20]]
    assert fake_store.zones["dairy"]["version"] == 3
    outline = page.locator("#zone-outline")
    expect(outline).to_have_text("(10.00, 10.00) (20.00, 10.00) (20.00, 20.00) (10.00, 20.00) m")


def test_zone_names_are_shown_as_text_never_as_markup(
    page: Page, site: str, fake_store: FakeStore
) -> None:
    name = '<img src=x onerror="document.body.dataset.pwned=1">Dairy'
    fake_store.add_zone("dairy", name, [[10, 10], [20, 10], [20, 20], [10, 20]])
    log_in(page, site)
    expect(page.locator(".zone-label")).to_have_text(name)
    expect(page.locator(".zone-label img")).to_have_count(0)
    assert page.evaluate("document.body.dataset.pwned") is None


def test_escape_abandons_a_polygon_being_drawn(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Draw polygon").click()
    plan.click(5.0, 5.0)
    plan.click(10.0, 5.0)
    page.keyboard.press("Escape")
    plan.click(10.0, 10.0)  # no longer a corner: nothing is being drawn
    plan.click(5.0, 5.0)
    expect(page.locator("#zone-form")).to_be_hidden()
    expect(page.locator(".zone-label")).to_have_count(0)
    assert fake_store.sent("POST", "/api/stores/1/zones") == []


def test_an_obstacle_is_saved_with_its_kind_and_drawn_hatched(
    page: Page, site: str, plan: PlanView, fake_store: FakeStore
) -> None:
    log_in(page, site)
    page.get_by_role("button", name="Draw rectangle").click()
    plan.click(5.0, 4.0)
    plan.click(17.0, 5.0)
    page.locator("#zone-form").get_by_label("Name").fill("Gondola 1")
    page.locator("#zone-form").get_by_label("Kind").select_option("obstacle")
    expect(page.locator("#zone-form fieldset.facing")).to_be_hidden()
    save_zone(page)
    expect(page.locator("#zone-saved")).to_contain_text("Saved")
    assert fake_store.sent("POST", "/api/stores/1/zones")[0]["kind"] == "obstacle"
    hatched = page.locator("path[fill='url(#aislecast-obstacle-hatch)']")
    expect(hatched).to_have_count(1)
    expect(page.locator("pattern#aislecast-obstacle-hatch")).to_have_count(1)
    screenshot(page, "zones-obstacle")
