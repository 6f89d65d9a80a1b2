from __future__ import annotations

import json

import pytest

from zones import ZoneError, ZoneHistory

from .helpers import box_zone


def _history() -> ZoneHistory:
    dairy = box_zone("dairy", 0, 0, 4, 2, categories=("milk",))
    history = ZoneHistory().create(dairy, "ana", 1_000)
    renamed = dairy.moved(name="Dairy & eggs")
    history = history.update(renamed, "ben", 2_000)
    history = history.update(renamed.moved(polygon=box_zone("x", 0, 0, 6, 2).polygon), "ana", 3_000)
    return history.delete("dairy", "carl", 4_000)


def test_history_says_who_changed_what_and_when() -> None:
    versions = _history().of("dairy")
    assert [(v.version, v.action, v.author, v.t_ms) for v in versions] == [
        (1, "create", "ana", 1_000),
        (2, "update", "ben", 2_000),
        (3, "update", "ana", 3_000),
        (4, "delete", "carl", 4_000),
    ]
    assert versions[1].changed == ("name",)
    assert versions[2].changed == ("polygon",)
    assert _history().current() == {}


def test_restore_brings_an_old_version_back_as_a_new_one() -> None:
    history = _history().restore("dairy", 2, "dana", 5_000)
    latest = history.latest("dairy")
    assert latest is not None
    assert (latest.version, latest.action, latest.note) == (5, "restore", "restored version 2")
    assert history.current()["dairy"] == history.version("dairy", 2).zone
    assert history.current()["dairy"].name == "Dairy & eggs"
    assert len(history.versions) == 5  # nothing rewritten


def test_bad_changes_are_refused_with_reasons() -> None:
    history = _history()
    with pytest.raises(ZoneError, match="deletion; nothing to restore"):
        history.restore("dairy", 4, "dana", 5_000)
    with pytest.raises(ZoneError, match="does not exist"):
        history.update(box_zone("dairy", 0, 0, 1, 1), "dana", 5_000)
    with pytest.raises(ZoneError, match="older than the last recorded change"):
        history.create(box_zone("bread", 0, 0, 1, 1), "dana", 10)
    with pytest.raises(ZoneError, match="needs an author"):
        history.create(box_zone("bread", 0, 0, 1, 1), "", 5_000)
    again = ZoneHistory().create(box_zone("bread", 0, 0, 1, 1), "a", 1)
    with pytest.raises(ZoneError, match="already exists"):
        again.create(box_zone("bread", 0, 0, 1, 1), "a", 2)
    assert again.update(box_zone("bread", 0, 0, 1, 1), "a", 3) is again  # no change, no version


def test_history_survives_a_round_trip_through_json_records() -> None:
    history = _history().restore("dairy", 3, "dana", 5_000)
    rows = json.loads(json.dumps(history.to_records()))
    assert ZoneHistory.from_records(rows) == history
    rows[0]["action"] = "rename"
    with pytest.raises(ZoneError, match="unknown action 'rename'"):
        ZoneHistory.from_records(rows)
