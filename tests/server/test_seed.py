"""Seeding a store from a folder (store.json, plan, CSVs, campaigns), all or nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aislecast.cli import app
from server.database import Database
from server.seed import StoreDefinitionError, seed_store
from server.tables import Purchase, Screen, Store, ZoneVersion
from tests.server.test_rest_api import PNG_1PX

T0 = 1_790_000_000_000


def store_folder(tmp_path: Path, **overrides: Any) -> Path:
    definition = {
        "name": "Demo market", "width_m": 40, "height_m": 20, "timezone": "Europe/Madrid",
        "zones": [
            {"id": "coffee", "name": "Coffee", "kind": "shelf", "categories": ["coffee"],
             "polygon": [[0, 0], [10, 0], [10, 2]], "facing_deg": 90, "view_distance_m": 2,
             "added_later": "ignored"},
            {"id": "screen-zone", "name": "By the screen", "kind": "screen",
             "polygon": [[20, 0], [30, 0], [30, 10], [20, 10]]},
        ],
        "beacons": [{"id": "B_1_1_AA", "x": 5, "y": 5, "tx_power_dbm": -59}],
        "screens": [{"id": "s1", "name": "Door", "zone_id": "screen-zone", "x": 25, "y": 11,
                     "facing_deg": 270}],
        "entrances": [],
        **overrides,
    }  # fmt: skip
    (tmp_path / "store.json").write_text(json.dumps(definition))
    (tmp_path / "floor_image.png").write_bytes(PNG_1PX)
    (tmp_path / "products.csv").write_text("sku,name,category,price\nA,Beans,coffee,4\n")
    (tmp_path / "customers.csv").write_text(
        "customer_id,gender,age,tier,consents\nc1,female,30,gold,signage\nc2,male,41,,\n"
    )
    (tmp_path / "purchases.csv").write_text(
        "basket_id,customer_id,t_ms,sku,quantity,price\nb1,c1,1,A,2,4\nb2,ghost,1,A,1,4\n"
    )
    (tmp_path / "campaigns.json").write_text(
        json.dumps(
            [
                {
                    "name": "Coffee",
                    "status": "active",
                    "document": {"context": {"event": "enter"}, "content": {"title": "Coffee"}},
                }
            ]
        )
    )
    return tmp_path


def test_a_store_folder_seeds_layout_catalogue_campaigns_and_tokens(
    database: Database, tmp_path: Path
) -> None:
    report = seed_store(database, store_folder(tmp_path), T0)
    assert (report.zones, report.beacons, report.screens, report.campaigns) == (2, 1, 1, 1)
    assert report.imported == {"products.csv": 1, "customers.csv": 2, "purchases.csv": 1}
    assert report.row_errors["purchases.csv"] == [
        (3, "unknown customer 'ghost'; import customers first")
    ]
    assert sorted(report.app_tokens) == ["c1", "c2"]
    assert list(report.screen_tokens) == ["s1"]
    with database.session() as session:
        store = session.get(Store, report.store_id)
        assert store is not None
        assert store.timezone == "Europe/Madrid"
        screen = session.get(Screen, (report.store_id, "s1"))
        assert screen is not None
        assert screen.zone_id == "screen-zone"
        versions = session.scalar(select(func.count()).select_from(ZoneVersion))
        assert versions == 2
        assert session.scalar(select(func.count()).select_from(Purchase)) == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"zones": [{"id": "z", "name": "Z", "kind": "area",
                     "polygon": [[0, 0], [99, 0], [99, 5]]}]}, "outside the floor"),
        ({"zones": [{"id": "z", "name": "Z", "kind": "wall", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
         "zones[0] (z): kind"),
        ({"screens": [{"id": "s", "name": "S", "zone_id": "nowhere", "x": 1, "y": 1}]},
         "no zone 'nowhere'"),
        ({"width_m": -3}, "width_m"),
        ({"beacons": {"not": "a list"}}, "beacons must be a list"),
    ],
)  # fmt: skip
def test_a_bad_store_definition_is_refused_with_a_reason_and_writes_nothing(
    database: Database, tmp_path: Path, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(StoreDefinitionError, match=re.escape(reason)):
        seed_store(database, store_folder(tmp_path, **overrides), T0)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Store)) == 0


def test_the_seed_command_writes_tokens_for_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "store").mkdir()
    folder = store_folder(tmp_path / "store")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'seed.sqlite3'}")
    tokens_file = tmp_path / "t.json"
    result = CliRunner().invoke(app, ["seed", str(folder), "--tokens-out", str(tokens_file)])
    assert result.exit_code == 0, result.output
    assert "2 zones, 1 beacons, 1 screens, 1 campaigns" in result.output
    assert "line 3: unknown customer 'ghost'" in result.output
    tokens = json.loads(tokens_file.read_text())
    assert sorted(tokens["app"]) == ["c1", "c2"]
    (folder / "store.json").write_text("{not json")
    refused = CliRunner().invoke(app, ["seed", str(folder)])
    assert refused.exit_code == 2
