"""Schedules on the store's wall clock: midnight, past-midnight windows, time zones and DST."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.triggers.builders import ALL_CONSENTS, campaign, ms, occasion, shopper
from triggers import CapLedger, FrequencyPolicy, OpeningHours, Schedule, StoreSettings, decide
from triggers.schedule import ScheduleError, TimeWindow, local_time, store_zone


def running(schedule: Schedule, t_ms: int, tz: str, opening: OpeningHours | None = None) -> bool:
    return schedule.why_not_running(local_time(t_ms, store_zone(tz)), opening) is None


def test_end_date_ends_at_the_stores_midnight_not_utcs() -> None:
    schedule = Schedule(end_date=dt.date(2026, 3, 31))
    # 23:59 on the 31st in Tokyo is 14:59 UTC; 00:00 on 1 April in Tokyo is 15:00 UTC on the 31st.
    assert running(schedule, ms(2026, 3, 31, 23, 59, "Asia/Tokyo"), "Asia/Tokyo")
    assert not running(schedule, ms(2026, 3, 31, 15, 0, "UTC"), "Asia/Tokyo")
    assert running(schedule, ms(2026, 3, 31, 15, 0, "UTC"), "Europe/London")


def test_hours_follow_the_wall_clock_across_a_dst_change() -> None:
    schedule = Schedule(hours=(TimeWindow.parse("09:00-17:00"),))
    # New York: 09:00 local is 14:00 UTC in winter and 13:00 UTC after 8 March 2026.
    assert running(schedule, ms(2026, 3, 6, 14, 0), "America/New_York")
    assert not running(schedule, ms(2026, 3, 6, 13, 30), "America/New_York")
    assert running(schedule, ms(2026, 3, 9, 13, 30), "America/New_York")
    assert not running(schedule, ms(2026, 3, 9, 21, 30), "America/New_York")


def test_the_skipped_hour_of_spring_forward_is_never_in_a_window_for_it() -> None:
    schedule = Schedule(hours=(TimeWindow.parse("01:00-02:00"),))
    # London, 29 March 2026: 01:00 GMT jumps to 02:00 BST; 00:59 UTC is 00:59, 01:00 UTC is 02:00.
    assert not running(schedule, ms(2026, 3, 29, 0, 59), "Europe/London")
    assert not running(schedule, ms(2026, 3, 29, 1, 0), "Europe/London")
    assert running(schedule, ms(2026, 3, 28, 1, 30), "Europe/London")


def test_a_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    friday_late = Schedule(weekdays=frozenset({4}), hours=(TimeWindow.parse("22:00-02:00"),))
    tz = "Europe/Paris"
    assert running(friday_late, ms(2026, 3, 6, 23, 30, tz), tz)  # Friday 23:30
    assert running(friday_late, ms(2026, 3, 7, 1, 30, tz), tz)  # Saturday 01:30, Friday's night
    assert not running(friday_late, ms(2026, 3, 7, 2, 0, tz), tz)  # window end is exclusive
    assert not running(friday_late, ms(2026, 3, 7, 23, 30, tz), tz)  # Saturday night
    assert not running(friday_late, ms(2026, 3, 6, 1, 30, tz), tz)  # Thursday's night


def test_opening_hours_past_midnight_and_closed_days() -> None:
    opening = OpeningHours.from_dict({"fri": ["08:00-02:00"], "sat": ["09:00-18:00"]})
    always = Schedule()
    tz = "Europe/Berlin"
    assert running(always, ms(2026, 3, 7, 1, 59, tz), tz, opening)  # Saturday 01:59
    assert not running(always, ms(2026, 3, 7, 2, 0, tz), tz, opening)
    assert not running(always, ms(2026, 3, 8, 12, 0, tz), tz, opening)  # Sunday: closed
    assert (
        Schedule(during_opening_hours=False).why_not_running(
            local_time(ms(2026, 3, 8, 12, 0, tz), store_zone(tz)), opening
        )
        is None
    )
    assert OpeningHours.from_dict(opening.to_dict()) == opening


def test_global_quiet_hours_across_midnight_stop_every_offer() -> None:
    store = StoreSettings(
        "s1",
        "Europe/London",
        policy=FrequencyPolicy(quiet_hours=(TimeWindow.parse("21:00-08:00"),)),
    )
    profile = shopper(consents=ALL_CONSENTS)
    for hour, sent in [(20, True), (21, False), (0, False), (7, False), (8, True)]:
        t = ms(2026, 3, 3, hour, 30, "Europe/London")
        decision = decide(occasion(t_ms=t), profile, [campaign()], CapLedger(), store, t)
        assert decision.sent == sent, hour
        if not sent:
            assert "quiet hours" in decision.excluded[0].detail


def test_schedule_reasons_are_readable_and_round_trip() -> None:
    schedule = Schedule.from_dict(
        {
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "weekdays": ["sat", "sun"],
            "hours": ["10:00-12:00"],
        }
    )
    assert Schedule.from_dict(schedule.to_dict()) == schedule
    tuesday = local_time(ms(2026, 3, 3, 11, 0), store_zone("UTC"))
    assert schedule.why_not_running(tuesday, None) == "it runs only on Sat, Sun"
    april = local_time(ms(2026, 4, 4, 11, 0), store_zone("UTC"))
    assert schedule.why_not_running(april, None) == "it ended on 2026-03-31"


@pytest.mark.parametrize(
    "body",
    [
        {"hours": ["25:00-26:00"]},
        {"hours": ["9-17"]},
        {"weekdays": ["funday"]},
        {"start_date": "2026-04-01", "end_date": "2026-03-01"},
        {"start_date": "tomorrow"},
        {"hourz": []},
    ],
)
def test_bad_schedules_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ScheduleError):
        Schedule.from_dict(body)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        StoreSettings("s1", "Mars/Olympus")


def test_store_settings_round_trip_through_their_dict_form() -> None:
    body = {
        "store_id": "s1",
        "timezone": "America/New_York",
        "opening_hours": {"mon": ["08:00-20:00"], "fri": ["08:00-02:00"]},
        "policy": {
            "max_per_visit": 1,
            "max_per_day": 2,
            "quiet_period_s": 300.0,
            "quiet_hours": ["21:00-08:00"],
        },
    }
    settings = StoreSettings.from_dict(body)
    assert settings.policy.quiet_hours == (TimeWindow(21 * 60, 8 * 60),)
    assert settings.to_dict() == body
    assert StoreSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ScheduleError, match="unknown policy keys"):
        StoreSettings.from_dict({**body, "policy": {"max_per_week": 3}})
