"""The staff REST API over real HTTP: validation, permissions, versions, imports, no 500s."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.server.harness import LiveServer, Staff, Store, seed_store

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def store(admin: Staff) -> Store:
    return seed_store(admin)


def staff_of(admin: Staff, live: LiveServer, store_ids: list[int]) -> Staff:
    email = f"staff-{uuid.uuid4().hex[:8]}@shop.test"
    admin.ok("POST", "/api/users", json={"email": email, "password": "long-enough-pw",
                                          "role": "staff", "store_ids": store_ids})  # fmt: skip
    return Staff(live.http_url, email, "long-enough-pw")


def test_login_refuses_a_wrong_password_and_routes_refuse_no_token(live: LiveServer) -> None:
    with httpx.Client(base_url=live.http_url) as client:
        bad = client.post(
            "/api/auth/login", json={"email": "admin@aislecast.test", "password": "x"}
        )
        assert bad.status_code == 401
        assert client.get("/api/stores").status_code == 401
        forged = client.get("/api/stores", headers={"Authorization": "Bearer forged"})
        assert forged.status_code == 401
        assert "log in again" in forged.json()["detail"]


def test_staff_of_store_a_cannot_read_or_change_store_b(
    admin: Staff, live: LiveServer, store: Store
) -> None:
    other = seed_store(admin)
    staff = staff_of(admin, live, [store.id])
    assert [s["id"] for s in staff.ok("GET", "/api/stores")] == [store.id]
    assert staff.http.get(f"/api/stores/{store.id}/zones").status_code == 200
    for method, path in [
        ("GET", f"/api/stores/{other.id}"),
        ("GET", f"/api/stores/{other.id}/zones"),
        ("GET", f"/api/stores/{other.id}/offers"),
        ("PATCH", f"/api/stores/{other.id}/zones/{other.shelf_zone}"),
        ("DELETE", f"/api/stores/{other.id}/beacons/any"),
    ]:
        response = staff.http.request(method, path, json={"name": "mine now"})
        assert response.status_code == 403, (method, path, response.text)
    assert staff.http.post("/api/stores", json={"name": "new"}).status_code == 403
    app_token = {"kind": "app", "customer_id": store.customer_id}
    assert staff.http.post("/api/tokens", json=app_token).status_code == 403
    assert staff.http.get("/api/customers").status_code == 403
    screen_token = {"kind": "screen", "store_id": other.id, "screen_id": other.screen_id}
    assert staff.http.post("/api/tokens", json=screen_token).status_code == 403
    staff.http.close()


def test_zones_keep_versions_and_a_version_can_be_restored(admin: Staff, store: Store) -> None:
    base = f"/api/stores/{store.id}/zones/{store.shelf_zone}"
    moved = admin.ok("PATCH", base, json={"polygon": [[1, 1], [4, 1], [4, 4], [1, 4]]})
    assert moved["version"] == 2
    admin.ok("DELETE", base)
    assert admin.http.get(base).status_code == 404
    versions = admin.ok("GET", f"{base}/versions")
    assert [(v["version"], v["action"]) for v in versions] == [
        (1, "create"), (2, "update"), (3, "delete")]  # fmt: skip
    assert versions[0]["author_user_id"] is not None
    restored = admin.ok("POST", f"{base}/versions/1/restore")
    assert restored["version"] == 4
    assert restored["polygon"] == [[0, 0], [10, 0], [10, 10], [0, 10]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"polygon": [[0, 0], [10, 10], [10, 0], [0, 10]]}, "polygon invalid"),
        ({"polygon": [[0, 0], [100, 0], [100, 5]]}, "outside the floor"),
        ({"polygon": [[0, 0], [0.1, 0], [0.1, 0.1]]}, "below"),
        ({"facing_deg": 360}, "less than 360"),
        ({"kind": "wall"}, "'area'"),
        ({"name": None}, "name"),
        ({"view_distance_m": None}, "needs view_distance_m"),  # the zones core's own check
    ],
)
def test_bad_zone_edits_are_refused_with_a_reason(
    admin: Staff, store: Store, body: dict[str, Any], reason: str
) -> None:
    response = admin.http.patch(f"/api/stores/{store.id}/zones/{store.shelf_zone}", json=body)
    assert response.status_code == 422
    assert reason in response.text


def test_a_plan_image_uploads_and_a_non_image_is_refused(admin: Staff, store: Store) -> None:
    base = f"/api/stores/{store.id}/floors/{store.floor_id}"
    refused = admin.http.put(f"{base}/image", files={"image": ("plan.png", b"GIF89a", "image/png")})
    assert refused.status_code == 415
    floor = admin.ok("PUT", f"{base}/image", files={"image": ("plan.png", PNG_1PX, "image/png")})
    assert floor["image_type"] == "image/png"
    image = admin.http.get(f"{base}/image")
    assert image.content == PNG_1PX
    assert image.headers["content-type"] == "image/png"


def test_csv_import_reports_bad_rows_by_line_and_imports_the_good_ones(admin: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    products = (
        "sku,name,category,price\n"
        f"{tag}-1,Beans,coffee,4.5\n"
        f"{tag}-2,Milk,dairy,-1\n"
        f"{tag}-3,,dairy,1\n"
        f"{tag}-4,Tea,tea,nan\n"
    )
    report = admin.ok("POST", "/api/products/import", files={"file": ("p.csv", products)})
    assert report["imported"] == 1
    assert [e["line"] for e in report["errors"]] == [3, 4, 5]
    assert "price" in report["errors"][0]["reason"]
    customers = f"customer_id,gender,age,tier,consents\n{tag}-c,robot,30,,\n{tag}-d,male,40,,spam\n"
    report = admin.ok("POST", "/api/customers/import", files={"file": ("c.csv", customers)})
    assert report["imported"] == 0
    assert ["gender" in report["errors"][0]["reason"], "consent" in report["errors"][1]["reason"]]
    purchases = f"basket_id,customer_id,t_ms,sku,quantity,price\nb1,nobody-{tag},1,{tag}-1,1,4\n"
    report = admin.ok("POST", "/api/purchases/import", files={"file": ("b.csv", purchases)})
    assert report["errors"] == [{"line": 2, "reason": f"unknown customer 'nobody-{tag}'; "
                                 "import customers first"}]  # fmt: skip
    bad_header = admin.http.post("/api/products/import", files={"file": ("p.csv", "a,b\n1,2\n")})
    assert bad_header.status_code == 422
    assert "header lacks" in bad_header.json()["detail"]
    not_utf8 = admin.http.post("/api/products/import", files={"file": ("p.csv", b"\xff\xfe\x00")})
    assert not_utf8.status_code == 422


def test_dry_run_validates_without_writing(admin: Staff) -> None:
    tag = uuid.uuid4().hex[:6]
    products = f"sku,name,category,price\n{tag},Beans,coffee,4.5\n"
    report = admin.ok(
        "POST", "/api/products/import?dry_run=true", files={"file": ("p.csv", products)}
    )
    assert report == {"imported": 0, "errors": [], "dry_run": True}
    skus = [p["sku"] for p in admin.ok("GET", "/api/products", params={"category": "coffee"})]
    assert tag not in skus


def test_duplicates_are_conflicts_not_crashes(admin: Staff, store: Store) -> None:
    zone = {"id": store.shelf_zone, "floor_id": store.floor_id, "name": "again", "kind": "area",
            "polygon": [[0, 0], [1, 0], [1, 1]]}  # fmt: skip
    assert admin.http.post(f"/api/stores/{store.id}/zones", json=zone).status_code == 409
    user = {"email": "dup@x.test", "password": "password123"}
    admin.http.post("/api/users", json=user)
    assert admin.http.post("/api/users", json=user).status_code == 409


GARBAGE_BODIES: list[Any] = [None, "", "not json", [], {"unexpected": 1}, {"name": float("nan")}]


def _paths(live: LiveServer) -> list[tuple[str, str]]:
    spec = httpx.get(f"{live.http_url}/openapi.json").json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def test_garbage_to_every_route_gets_a_4xx_never_a_500(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    routes = _paths(live)
    assert len(routes) > 30
    fill = {"{store_id}": str(store.id), "{floor_id}": str(store.floor_id),
            "{zone_id}": store.shelf_zone, "{screen_id}": store.screen_id,
            "{customer_id}": store.customer_id, "{beacon_id}": "b", "{campaign_id}": "1",
            "{version}": "1", "{user_id}": "999", "{token_id}": "999"}  # fmt: skip
    weird = {"{store_id}": "-1", "{floor_id}": "abc", "{version}": "99999999999999999999",
             "{token_id}": "1e3", "{campaign_id}": "%00"}  # fmt: skip
    for method, template in routes:
        for values in (fill, {**fill, **weird}):
            path = template
            for key, value in values.items():
                path = path.replace(key, value)
            for body in GARBAGE_BODIES:
                content = body if isinstance(body, str) else None
                payload = None if isinstance(body, str) else body
                if payload is not None and isinstance(payload, dict) and "name" in payload:
                    content, payload = '{"name": NaN}', None
                response = admin.http.request(
                    method, path, content=content, json=payload,
                    headers={"content-type": "application/json"},
                )  # fmt: skip
                assert response.status_code < 500, (method, path, body, response.text)


def test_every_store_route_refuses_staff_of_another_store(
    live: LiveServer, admin: Staff, store: Store
) -> None:
    other = seed_store(admin)
    staff = staff_of(admin, live, [store.id])
    fill = {"{floor_id}": str(other.floor_id), "{zone_id}": other.shelf_zone,
            "{screen_id}": other.screen_id, "{beacon_id}": "b", "{campaign_id}": "1",
            "{version}": "1"}  # fmt: skip
    checked = 0
    for method, template in _paths(live):
        if "{store_id}" not in template:
            continue
        path = template.replace("{store_id}", str(other.id))
        for key, value in fill.items():
            path = path.replace(key, value)
        response = staff.http.request(method, path, json={})
        assert response.status_code == 403, (method, path, response.status_code)
        checked += 1
    staff.http.close()
    assert checked >= 25  # every store-scoped route was tried


def test_repeated_failed_logins_are_throttled(live: LiveServer, admin: Staff) -> None:
    email = f"guessed-{uuid.uuid4().hex[:6]}@shop.test"
    admin.ok("POST", "/api/users", json={"email": email, "password": "the-real-password"})
    with httpx.Client(base_url=live.http_url) as client:
        codes = [
            client.post(
                "/api/auth/login", json={"email": email, "password": f"guess{i}"}
            ).status_code
            for i in range(10)
        ]
        blocked = client.post(
            "/api/auth/login", json={"email": email, "password": "the-real-password"}
        )
    assert codes == [401] * 10
    assert blocked.status_code == 429
    assert "try again in" in blocked.json()["detail"]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"content": {"title": "x"}}, "'context' must be an object"),
        ({"context": {"event": "teleport"}, "content": {"title": "x"}}, "event 'teleport'"),
        ({"context": {"event": "enter"}, "content": {"title": "x"},
          "audience": {"age": {"min": 40, "max": 20}}}, "min 40 is above max 20"),
        ({"context": {"event": "enter"}, "content": {"title": "x"}, "holdout_share": 1.5},
         "holdout_share"),
        ({"context": {"event": "enter"}, "content": {"title": "x", "colour": "red"}},
         "unknown keys ['colour']"),
    ],
)  # fmt: skip
def test_a_campaign_triggers_cannot_read_is_refused_with_its_reason(
    admin: Staff, document: dict[str, object], reason: str
) -> None:
    store = seed_store(admin)
    response = admin.http.post(
        f"/api/stores/{store.id}/campaigns",
        json={"name": "bad", "status": "active", "document": document},
    )
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    good = {"context": {"event": "enter"}, "content": {"title": "x"}}
    created = admin.ok(
        "POST", f"/api/stores/{store.id}/campaigns",
        json={"name": "good", "status": "active", "document": good},
    )  # fmt: skip
    patched = admin.http.patch(
        f"/api/stores/{store.id}/campaigns/{created['id']}", json={"document": document}
    )
    assert patched.status_code == 422, patched.text
