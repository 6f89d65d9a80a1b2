from __future__ import annotations

import numpy as np
import pytest

from positioning import Estimate
from zones import Zone, ZoneError, ZoneEvent, ZoneEventDetector, ZoneSettings

from .helpers import assert_well_formed, box_zone, kinds, run_loop

T0 = 1_700_000_000_000
AISLE = box_zone("aisle", 0, 0, 10, 4)  # 4 m wide


def _stand(
    x: float,
    y: float,
    seconds: float,
    start_s: float = 0.0,
    heading: float = 0.0,
    accuracy: float = 1.0,
    every_ms: int = 500,
) -> list[tuple[str, Estimate]]:
    start = T0 + int(start_s * 1000)
    return [
        ("ann", Estimate(start + k * every_ms, x, y, heading, accuracy))
        for k in range(int(seconds * 1000 / every_ms))
    ]


def test_standing_in_a_zone_enters_then_reports_dwell_milestones() -> None:
    events = run_loop(ZoneEventDetector([AISLE]), _stand(5, 2, 65))
    assert kinds(events) == ["enter", "dwell", "dwell", "dwell"]
    assert events[0].t_ms == T0  # stamped with the first in estimate, not the confirming one
    assert [e.dwell_s for e in events[1:]] == [10.0, 30.0, 60.0]


def test_leaving_fires_one_exit_after_the_grace_stamped_when_they_left() -> None:
    rows = _stand(5, 2, 12) + _stand(20, 2, 10, start_s=12)
    events = run_loop(ZoneEventDetector([AISLE]), rows)
    assert kinds(events) == ["enter", "dwell", "exit"]
    assert events[-1].t_ms == T0 + 12_000
    assert events[-1].dwell_s == 12.0


def test_a_short_excursion_inside_the_grace_does_not_exit() -> None:
    rows = _stand(5, 2, 5) + _stand(20, 2, 3, start_s=5) + _stand(5, 2, 5, start_s=8)
    assert kinds(run_loop(ZoneEventDetector([AISLE]), rows)) == ["enter", "dwell"]


def test_a_single_stray_estimate_does_not_enter() -> None:
    rows = _stand(20, 2, 3) + _stand(5, 2, 0.5, start_s=3) + _stand(20, 2, 3, start_s=3.5)
    assert run_loop(ZoneEventDetector([AISLE]), rows) == []


def test_a_6m_uncertain_estimate_does_not_enter_a_2m_zone_but_a_1m_one_does() -> None:
    shelf = box_zone("shelf", 0, 0, 2, 2)
    assert run_loop(ZoneEventDetector([shelf]), _stand(1, 1, 10, accuracy=6.0)) == []
    assert kinds(run_loop(ZoneEventDetector([shelf]), _stand(1, 1, 10, accuracy=1.0)))[0] == "enter"


def test_an_uncertain_estimate_must_be_farther_out_to_count_as_leaving() -> None:
    # 4 m outside with 5 m accuracy is not evidence of leaving; with 1 m accuracy it is.
    vague = _stand(5, 2, 5) + _stand(5, 8, 10, start_s=5, accuracy=5.0)
    sharp = _stand(5, 2, 5) + _stand(5, 8, 10, start_s=5, accuracy=1.0)
    assert "exit" not in kinds(run_loop(ZoneEventDetector([AISLE]), vague))
    assert "exit" in kinds(run_loop(ZoneEventDetector([AISLE]), sharp))


def test_late_estimates_are_ignored_and_cannot_reopen_a_stay() -> None:
    detector = ZoneEventDetector([AISLE])
    events = run_loop(detector, _stand(5, 2, 3) + _stand(20, 2, 8, start_s=3))
    assert kinds(events) == ["enter", "exit"]
    late = run_loop(detector, _stand(5, 2, 3))  # the same in-zone estimates again, now late
    assert late == []
    assert detector.late_estimates == 6


def test_unusable_estimates_are_skipped() -> None:
    detector = ZoneEventDetector([AISLE])
    rows = [
        ("ann", Estimate(T0, float("nan"), 2.0, 0.0, 1.0)),
        ("ann", Estimate(T0, 5.0, 2.0, 0.0, 99.0)),
    ]
    assert run_loop(detector, rows) == []
    assert detector.unusable_estimates == 2
    assert detector.shoppers == {}


def test_end_visit_closes_open_stays_then_ends_the_visit() -> None:
    detector = ZoneEventDetector([AISLE, box_zone("bay", 4, 1, 6, 3)])
    run_loop(detector, _stand(5, 2, 4))
    events = detector.end_visit("ann", T0 + 5_000)
    assert [(e.kind, e.zone_id) for e in events] == [
        ("exit", "aisle"),
        ("exit", "bay"),
        ("visit_end", None),
    ]
    assert events[0].dwell_s == 5.0
    assert detector.end_visit("ann", T0 + 6_000) == []  # already ended
    assert run_loop(detector, _stand(5, 2, 3)) == []  # late: cannot reopen the visit
    again = run_loop(detector, _stand(5, 2, 3, start_s=10))
    assert [(e.kind, e.zone_id) for e in again] == [("enter", "aisle"), ("enter", "bay")]
    assert kinds(detector.end_visit("bob", T0)) == ["visit_end"]


def test_expire_ends_only_the_quiet_visits() -> None:
    detector = ZoneEventDetector([AISLE], ZoneSettings(visit_timeout_ms=60_000))
    run_loop(detector, _stand(5, 2, 3))
    detector.update("bob", Estimate(T0 + 59_000, 20.0, 2.0, 0.0, 1.0))
    events = detector.expire(T0 + 63_000)
    assert [(e.kind, e.shopper_id) for e in events] == [("exit", "ann"), ("visit_end", "ann")]
    assert list(detector.shoppers) == ["bob"]


def test_events_keep_their_field_names_and_types() -> None:
    event = run_loop(ZoneEventDetector([AISLE]), _stand(5, 2, 2))[0]
    assert event == ZoneEvent("enter", "ann", "aisle", T0, 0.0)


def test_zone_too_thin_for_the_enter_margin_is_refused_unless_it_is_for_facing() -> None:
    with pytest.raises(ZoneError, match="narrower than twice enter_margin_m"):
        ZoneEventDetector([box_zone("rail", 0, 0, 10, 0.8)])
    thin_shelf = box_zone("shelf", 0, 0, 10, 0.8, facing_edge=0, view_distance_m=2.0)
    events = run_loop(ZoneEventDetector([thin_shelf]), _stand(5, 0.4, 5, heading=90.0))
    assert "enter" not in kinds(events)


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="exit_grace_ms"):
        ZoneSettings(exit_grace_ms=-1)
    with pytest.raises(ValueError, match="strictly increasing"):
        ZoneSettings(dwell_milestones_s=(30.0, 10.0))
    assert ZoneSettings().milestone_ms(6) == 900_000  # 300 s, then every 300 s more


# ---- facing ------------------------------------------------------------------------------

SHELF = box_zone("cereal", 0, 0, 4, 1, facing_edge=0, view_distance_m=3.0)  # seen from the south


def _facing(zone_heading: float, x: float, y: float, zone: Zone = SHELF) -> list[ZoneEvent]:
    detector = ZoneEventDetector([zone])
    return [
        e for e in run_loop(detector, _stand(x, y, 4, heading=zone_heading)) if e.kind == "facing"
    ]


def test_facing_fires_when_looking_at_the_shelf_front() -> None:
    events = _facing(90.0, 2.0, -1.5)
    assert len(events) == 1
    assert events[0].zone_id == "cereal"
    assert events[0].dwell_s == 2.0


@pytest.mark.parametrize(
    ("heading", "x", "y", "why"),
    [
        (270.0, 2.0, -1.5, "back to the shelf"),
        (0.0, 2.0, -1.5, "looking along the aisle"),
        (90.0, 2.0, -5.0, "too far away"),
        (270.0, 2.0, 2.0, "behind the shelf, looking at its back"),
    ],
)
def test_facing_does_not_fire_when_not_looking_at_the_front(
    heading: float, x: float, y: float, why: str
) -> None:
    assert _facing(heading, x, y) == [], why


def test_a_shop_without_a_front_is_faced_from_any_side() -> None:
    shop = box_zone("shop", 0, 0, 4, 4, view_distance_m=3.0)
    assert len(_facing(180.0, 6.0, 2.0, shop)) == 1  # east of it, looking west
    assert len(_facing(90.0, 2.0, -2.0, shop)) == 1  # south of it, looking north
    assert _facing(0.0, 6.0, 2.0, shop) == []  # east of it, looking away


def test_a_glance_shorter_than_the_minimum_does_not_fire() -> None:
    detector = ZoneEventDetector([SHELF])
    rows = _stand(2, -1.5, 1.5, heading=90.0) + _stand(2, -1.5, 3, start_s=1.5, heading=270.0)
    assert run_loop(detector, rows) == []


def test_walk_through_a_row_of_zones_is_well_formed_in_loop_and_batch() -> None:
    zones = [box_zone(f"bay{i}", 3 * i, 0, 3 * i + 2.5, 3) for i in range(8)]
    rng = np.random.default_rng(3)
    t = T0 + np.arange(0, 60_000, 400)
    x = np.linspace(-2, 26, t.size) + rng.normal(0, 0.3, t.size)
    y = 1.5 + rng.normal(0, 0.3, t.size)
    rows = [
        ("ann", Estimate(int(a), float(b), float(c), 0.0, 1.0))
        for a, b, c in zip(t, x, y, strict=True)
    ]
    loop = run_loop(ZoneEventDetector(zones), rows)
    assert_well_formed(loop)
    batch = ZoneEventDetector(zones).update_batch(
        ["ann"] * t.size, t, x, y, np.zeros(t.size), np.ones(t.size)
    )
    assert batch == loop
    assert kinds(loop).count("enter") == 8


def test_walking_out_of_the_store_ends_the_visit_and_coming_back_starts_a_new_one() -> None:
    plan_outline = box_zone("store", 0, 0, 30, 10).polygon
    settings = ZoneSettings(leave_grace_ms=4_000)
    loop = ZoneEventDetector([AISLE], settings, plan_outline)
    batch = ZoneEventDetector([AISLE], settings, plan_outline)
    # In the aisle, out through the west wall for 6 s, back in later.
    rows = _stand(5, 2, 4) + _stand(-5, 2, 6, start_s=4) + _stand(5, 2, 4, start_s=20)
    events = run_loop(loop, rows)
    assert [(e.kind, e.t_ms - T0) for e in events] == [
        ("enter", 0),
        ("exit", 4_000),
        ("visit_end", 4_000),
        ("enter", 20_000),
    ]
    assert_well_formed(events)
    shoppers, t, x, y = zip(*[(s, e.t_ms, e.x, e.y) for s, e in rows], strict=True)
    assert batch.update_batch(shoppers, t, x, y, [0.0] * len(t), [1.0] * len(t)) == events
    assert loop.shoppers == batch.shoppers


def test_an_estimate_too_vague_to_tell_the_side_of_the_shelf_does_not_face_it() -> None:
    rows = _stand(2.0, -1.5, 4, heading=90.0, accuracy=3.5)  # view distance is 3 m
    assert [e for e in run_loop(ZoneEventDetector([SHELF]), rows) if e.kind == "facing"] == []


def test_facing_fires_again_after_the_look_was_broken() -> None:
    rows = (
        _stand(2, -1.5, 3, heading=90.0)
        + _stand(2, -1.5, 3, start_s=3, heading=270.0)
        + _stand(2, -1.5, 3, start_s=6, heading=90.0)
    )
    facing = [e for e in run_loop(ZoneEventDetector([SHELF]), rows) if e.kind == "facing"]
    assert [e.t_ms - T0 for e in facing] == [2_000, 8_000]


def test_dwell_repeats_after_the_last_milestone() -> None:
    settings = ZoneSettings(dwell_milestones_s=(5.0,), dwell_repeat_s=10.0)
    events = run_loop(ZoneEventDetector([AISLE], settings), _stand(5, 2, 36, every_ms=1_000))
    assert [e.dwell_s for e in events if e.kind == "dwell"] == [5.0, 15.0, 25.0, 35.0]


def test_a_gap_longer_than_several_milestones_fires_one_dwell() -> None:
    rows = _stand(5, 2, 2) + _stand(5, 2, 1, start_s=70)
    events = run_loop(ZoneEventDetector([AISLE]), rows)
    assert [(e.kind, e.dwell_s) for e in events] == [("enter", 0.0), ("dwell", 70.0)]


def test_batch_rejects_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        ZoneEventDetector([AISLE]).update_batch(["a", "b"], [T0], [1.0], [1.0], [0.0], [1.0])


def test_batch_counts_unusable_and_late_rows_like_the_loop() -> None:
    shoppers = ["a", "a", "a", "b"]
    t = [T0 + 1_000, T0, T0 + 2_000, T0]
    x = [5.0, 5.0, float("nan"), 5.0]
    accuracy = [1.0, 1.0, 1.0, 40.0]
    detector = ZoneEventDetector([AISLE])
    detector.update_batch(shoppers, t, x, [2.0] * 4, [0.0] * 4, accuracy)
    assert (detector.late_estimates, detector.unusable_estimates) == (1, 2)


def test_malformed_estimates_are_skipped_not_a_crash_in_both_forms() -> None:
    loop, batch = ZoneEventDetector([SHELF]), ZoneEventDetector([SHELF])
    bad = [
        Estimate(T0, None, 1.0, 0.0, 1.0),  # type: ignore[arg-type]
        Estimate(T0, 1.0, 1.0, 0.0, float("inf")),
        Estimate(float("nan"), 1.0, 1.0, 0.0, 1.0),  # type: ignore[arg-type]
        Estimate(T0, 2.0, -1.5, None, 1.0),  # type: ignore[arg-type]  no heading: no facing
    ]
    assert run_loop(loop, [("ann", e) for e in bad]) == []
    assert loop.unusable_estimates == 3
    batch.update_batch(
        ["ann"] * 3,
        [T0, T0, float("nan")],
        [np.nan, 1.0, 1.0],
        [1.0] * 3,
        [0.0] * 3,
        [1.0, np.inf, 1.0],
    )
    assert batch.unusable_estimates == 3


def test_events_name_zones_the_detector_can_describe() -> None:
    detector = ZoneEventDetector([AISLE, SHELF])
    event = run_loop(detector, _stand(5, 2, 2))[0]
    assert detector.zone(str(event.zone_id)).kind == "shelf"
    with pytest.raises(ZoneError, match="not watched"):
        detector.zone("nowhere")


def test_a_store_without_zones_still_ends_visits_of_shoppers_who_leave() -> None:
    detector = ZoneEventDetector(
        [], ZoneSettings(leave_grace_ms=5_000), box_zone("s", 0, 0, 10, 10).polygon
    )
    assert (
        detector.update_batch(["a", "b"], [T0, T0], [1.0, 50.0], [1.0, 1.0], [0.0] * 2, [1.0] * 2)
        == []
    )
    events = detector.update_batch(["b"], [T0 + 6_000], [50.0], [1.0], [0.0], [1.0])
    assert events == [ZoneEvent("visit_end", "b", None, T0, 0.0)]


def test_one_estimate_per_shopper_a_call_equals_the_loop_through_milestones_and_exits() -> None:
    """The runner's shape: every call holds one estimate of each shopper. Ann stands inside past
    three dwell milestones then leaves (stays whose call changes nothing are skipped, the ones
    that reach a milestone or start an exit are not); Bob stands in the hysteresis band beside
    an overlapping zone; Cy steps out of the aisle briefly (back before the exit grace ends) and
    once for long; Di's estimate lies exactly on the aisle's edge."""
    bay = box_zone("bay", 8, 0, 14, 4)  # overlaps the aisle's east end (8..10 m)
    loop, batch = ZoneEventDetector([AISLE, bay]), ZoneEventDetector([AISLE, bay])
    events: list[ZoneEvent] = []
    for k in range(80):
        t = T0 + 1000 * k
        ann = (5.0, 2.0) if k < 70 else (25.0, 2.0)
        bob = (11.0, 4.8)  # 0.8 m outside the bay: near, never in
        # In both zones; out of the aisle (bay alone) for 3 s, within the exit grace, every 10 s;
        # out for 10 s once (the aisle's exit fires).
        cy = (13.0, 2.0) if k % 10 >= 7 or 50 <= k < 60 else (9.0, 2.0)
        di = (10.0, 2.0)  # on the aisle's east edge, inside the bay
        names = ["ann", "bob", "cy", "di"]
        xy = [ann, bob, cy, di]
        rows = [(n, Estimate(t, x, y, 0.0, 1.0)) for n, (x, y) in zip(names, xy, strict=True)]
        expected = run_loop(loop, rows)
        found = batch.update_batch(names, [t] * 4, [p[0] for p in xy], [p[1] for p in xy],
                                   [0.0] * 4, [1.0] * 4)  # fmt: skip
        assert found == expected, k
        events += found
    assert batch.shoppers == loop.shoppers
    assert [(e.kind, e.dwell_s) for e in events if e.shopper_id == "ann"] == [
        ("enter", 0.0), ("dwell", 10.0), ("dwell", 30.0), ("dwell", 60.0), ("exit", 70.0)
    ]  # fmt: skip
    assert not [e for e in events if e.shopper_id == "bob"]
    assert_well_formed(events)
