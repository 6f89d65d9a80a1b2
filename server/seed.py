"""Load a store folder (the simulator's ``--out DIR``) into the database: a demo store in one step.

The folder holds ``store.json`` (CONTRACTS.md: name, width_m, height_m, zones, beacons, screens;
its ``obstacles`` — shelf units, counters — become zones of kind ``obstacle``, cut to the floor),
optionally ``floor_image.png``, ``products.csv``, ``customers.csv``, ``purchases.csv`` (CSV formats
of CONTRACTS.md) and ``campaigns.json`` (a list of ``{"name", "status", "document"}``). Everything
is validated with the same schemas and checks as the REST API and written in one transaction: a bad
definition changes nothing. Bad CSV rows are reported by line and skipped, as in the REST import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import shapely
from pydantic import BaseModel, ValidationError
from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from server.campaign_documents import CampaignDocumentError, validate_campaign_document
from server.catalogue_store import insert_purchases, keep_known_references, upsert_rows
from server.csv_import import (
    CsvFormatError,
    ParsedRows,
    parse_customers,
    parse_products,
    parse_purchases,
)
from server.database import Database
from server.realtime.framed_socket import validation_reason
from server.schemas.commerce import CampaignCreate
from server.schemas.stores import BeaconCreate, FloorCreate, ScreenCreate, StoreCreate, ZoneShape
from server.security import new_token, token_digest
from server.tables import (
    ApiToken,
    Beacon,
    Campaign,
    Customer,
    Floor,
    Product,
    Screen,
    Store,
    Zone,
    ZoneVersion,
)
from server.zone_shapes import MIN_ZONE_AREA_M2, zone_model_problem, zone_shape_problem
from zones.events import OBSTACLE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class StoreDefinitionError(ValueError):
    """The store folder cannot be loaded; the message says which file and item, and why."""


@dataclass
class SeedReport:
    store_id: int
    floor_id: int
    zones: int
    beacons: int
    screens: int
    campaigns: int
    obstacles: int = 0  # obstacle zones (counted apart from ``zones``)
    imported: dict[str, int] = field(default_factory=dict)  # CSV file → rows imported
    row_errors: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    app_tokens: dict[str, str] = field(default_factory=dict)  # customer_id → token
    screen_tokens: dict[str, str] = field(default_factory=dict)  # screen_id → token
    pos_token: str = ""  # the store's point of sale (posts baskets)


Model = TypeVar("Model", bound=BaseModel)


def _validated(schema: type[Model], item: dict[str, Any], where: str) -> Model:
    """Only the fields the schema knows are read: the contract lets writers add fields."""
    known = {k: v for k, v in item.items() if k in schema.model_fields}
    try:
        return schema.model_validate(known)
    except ValidationError as error:
        raise StoreDefinitionError(f"{where}: {validation_reason(error)}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoreDefinitionError(f"{path.name}: {error}") from None


def _list_of_objects(definition: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = definition.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise StoreDefinitionError(f"store.json: {key} must be a list of objects")
    return items


def _add_layout(
    session: Session, definition: dict[str, Any], folder: Path, report: SeedReport, now_ms: int
) -> None:
    floor = session.get(Floor, report.floor_id)
    if floor is None:
        raise StoreDefinitionError("the floor vanished while seeding")
    image = folder / "floor_image.png"
    if image.is_file():
        content = image.read_bytes()
        if not content.startswith(PNG_SIGNATURE):
            raise StoreDefinitionError("floor_image.png is not a PNG image")
        floor.image, floor.image_type = content, "image/png"
    zone_items = [
        (f"zones[{i}]", str(item.get("id") or f"z{i + 1}"), item)
        for i, item in enumerate(_list_of_objects(definition, "zones"))
    ]
    obstacle_items = list(_obstacle_zone_items(definition, floor.width_m, floor.height_m))
    seen: set[str] = set()
    for where, zone_id, item in zone_items + obstacle_items:
        if zone_id in seen:
            raise StoreDefinitionError(f"store.json {where}: the id {zone_id!r} is used twice")
        seen.add(zone_id)
        shape = _validated(ZoneShape, item, f"store.json {where} ({zone_id})")
        problem = zone_shape_problem(
            shape.polygon, floor.width_m, floor.height_m
        ) or zone_model_problem(zone_id, shape.model_dump())
        if problem is not None:
            raise StoreDefinitionError(f"store.json {where} ({zone_id}): {problem}")
        document = shape.model_dump()
        session.add(Zone(store_id=report.store_id, id=zone_id, floor_id=floor.id, version=1,
                         document=document))  # fmt: skip
        session.add(ZoneVersion(store_id=report.store_id, zone_id=zone_id, version=1,
                                action="create", author_user_id=None, created_ms=now_ms,
                                floor_id=floor.id, document=document))  # fmt: skip
        if shape.kind == OBSTACLE:
            report.obstacles += 1
        else:
            report.zones += 1
    for i, item in enumerate(_list_of_objects(definition, "beacons")):
        beacon = _validated(BeaconCreate, {**item, "floor_id": floor.id}, f"beacons[{i}]")
        session.add(Beacon(store_id=report.store_id, **beacon.model_dump()))
        report.beacons += 1
    session.flush()
    for i, item in enumerate(_list_of_objects(definition, "screens")):
        screen = _validated(ScreenCreate, {**item, "floor_id": floor.id}, f"screens[{i}]")
        if (
            screen.zone_id is not None
            and session.get(Zone, (report.store_id, screen.zone_id)) is None
        ):
            raise StoreDefinitionError(f"screens[{i}]: no zone {screen.zone_id!r} in store.json")
        session.add(Screen(store_id=report.store_id, online=False, current=None, last_played=None,
                           **screen.model_dump()))  # fmt: skip
        report.screens += 1


def _obstacle_zone_items(
    definition: dict[str, Any], width_m: float, height_m: float
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``store.json``'s obstacles as obstacle zone items ``(where, id, item)``, each cut to the
    floor rectangle (the recorded malls' shops overhang their outline); a piece smaller than a
    zone may be is dropped, and of one cut in several pieces the largest is kept."""
    floor = shapely.box(0.0, 0.0, width_m, height_m)
    for i, item in enumerate(_list_of_objects(definition, "obstacles")):
        where = f"obstacles[{i}]"
        obstacle_id = item.get("id")
        if not isinstance(obstacle_id, str) or not obstacle_id:
            raise StoreDefinitionError(f"store.json {where}: id must be a non-empty string")
        try:
            footprint = Polygon(item.get("polygon") or []).buffer(0).intersection(floor)
        except (TypeError, ValueError, shapely.errors.ShapelyError) as error:
            raise StoreDefinitionError(f"store.json {where} ({obstacle_id}): {error}") from None
        pieces = [g for g in getattr(footprint, "geoms", [footprint]) if isinstance(g, Polygon)]
        largest = max(pieces, key=lambda g: g.area, default=None)
        if largest is None or largest.area < MIN_ZONE_AREA_M2:
            continue
        ring = [[round(x, 4), round(y, 4)] for x, y in largest.exterior.coords[:-1]]
        zone = {"name": item.get("name") or obstacle_id, "kind": OBSTACLE, "polygon": ring,
                "categories": item.get("categories") or []}  # fmt: skip
        yield where, obstacle_id, zone


def _import_csvs(session: Session, folder: Path, report: SeedReport) -> list[str]:
    """Import the CSVs present; returns the ids of the customers imported."""
    customer_ids: list[str] = []
    for name, parse in (("products.csv", parse_products), ("customers.csv", parse_customers)):
        parsed = _parse_csv(folder / name, parse)
        if parsed is not None:
            upsert_rows(session, Product if name == "products.csv" else Customer, parsed.rows)
            session.flush()
            report.imported[name], report.row_errors[name] = len(parsed.rows), parsed.errors
            if name == "customers.csv":
                customer_ids = [row["id"] for row in parsed.rows]
    parsed = _parse_csv(folder / "purchases.csv", parse_purchases)
    if parsed is not None:
        parsed = keep_known_references(session, parsed)
        insert_purchases(session, parsed.rows)
        report.imported["purchases.csv"] = len(parsed.rows)
        report.row_errors["purchases.csv"] = parsed.errors
    return customer_ids


def _parse_csv(path: Path, parse: Any) -> ParsedRows | None:
    if not path.is_file():
        return None
    try:
        parsed: ParsedRows = parse(path.read_bytes())
    except CsvFormatError as error:
        raise StoreDefinitionError(f"{path.name}: {error}") from None
    return parsed


def _add_campaigns(session: Session, folder: Path, report: SeedReport, now_ms: int) -> None:
    path = folder / "campaigns.json"
    if not path.is_file():
        return
    items = _read_json(path)
    if not isinstance(items, list):
        raise StoreDefinitionError("campaigns.json must be a list of campaigns")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise StoreDefinitionError(f"campaigns.json[{i}] must be an object")
        campaign = _validated(CampaignCreate, item, f"campaigns.json[{i}]")
        try:
            document = validate_campaign_document(campaign.document)
        except (CampaignDocumentError, ValueError) as error:
            raise StoreDefinitionError(f"campaigns.json[{i}]: {error}") from None
        session.add(Campaign(store_id=report.store_id, name=campaign.name, status=campaign.status,
                             version=1, document=document, created_ms=now_ms,
                             updated_ms=now_ms))  # fmt: skip
        report.campaigns += 1


def _issue_tokens(
    session: Session, report: SeedReport, customer_ids: list[str], now_ms: int
) -> None:
    session.flush()
    for customer_id in customer_ids:
        token = new_token()
        session.add(ApiToken(token_hash=token_digest(token), kind="app", label="seeded",
                             customer_id=customer_id, created_ms=now_ms))  # fmt: skip
        report.app_tokens[customer_id] = token
    for screen in session.query(Screen).filter(Screen.store_id == report.store_id):
        token = new_token()
        session.add(ApiToken(token_hash=token_digest(token), kind="screen", label="seeded",
                             store_id=report.store_id, screen_id=screen.id,
                             created_ms=now_ms))  # fmt: skip
        report.screen_tokens[screen.id] = token
    report.pos_token = new_token()
    session.add(ApiToken(token_hash=token_digest(report.pos_token), kind="pos", label="seeded",
                         store_id=report.store_id, created_ms=now_ms))  # fmt: skip


def seed_store(
    database: Database, folder: Path, now_ms: int, issue_tokens: bool = True
) -> SeedReport:
    """Create the store of ``folder`` with its floor, layout, catalogue and campaigns; tokens for
    its customers and screens when ``issue_tokens``. All or nothing."""
    definition_path = folder / "store.json"
    if not definition_path.is_file():
        raise StoreDefinitionError(f"no store.json in {folder}")
    definition = _read_json(definition_path)
    if not isinstance(definition, dict):
        raise StoreDefinitionError("store.json must be an object")
    store_def = _validated(StoreCreate, definition, "store.json")
    floor_def = _validated(FloorCreate, {"name": "ground", **definition}, "store.json floor")
    with database.session() as session:
        store = Store(name=store_def.name, timezone=store_def.timezone, created_ms=now_ms)
        session.add(store)
        session.flush()
        floor = Floor(store_id=store.id, created_ms=now_ms, **floor_def.model_dump())
        session.add(floor)
        session.flush()
        report = SeedReport(store.id, floor.id, 0, 0, 0, 0)
        _add_layout(session, definition, folder, report, now_ms)
        customer_ids = _import_csvs(session, folder, report)
        _add_campaigns(session, folder, report, now_ms)
        if issue_tokens:
            _issue_tokens(session, report, customer_ids, now_ms)
    return report
