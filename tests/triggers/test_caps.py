"""One frequency budget per shopper across app and signage; quiet periods; budgets."""

from __future__ import annotations

from tests.triggers.builders import NOW, STORE, campaign, decide_and_record, ms, occasion, shopper
from triggers import Budget, CapLedger, Context, Occasion, decide

MINUTE = 60_000


def near_screen(t_ms: int, visit: str = "v1") -> Occasion:
    return occasion("near_screen", t_ms=t_ms, screen_id="scr1", visit_id=visit)


def test_an_offer_on_signage_counts_against_the_same_budget_as_the_app() -> None:
    ledger = CapLedger()
    profile = shopper()
    signage = campaign("sign", "near_screen", channel="signage")
    app = campaign("app", "enter")
    first = decide_and_record(ledger, profile, [signage], near_screen(NOW))
    assert [o.channel for o in first.offers] == ["signage"]
    # Five minutes later an app offer would fall in the quiet period the screen offer started.
    second = decide_and_record(ledger, profile, [app], occasion(t_ms=NOW + 5 * MINUTE))
    assert not second.sent
    assert second.excluded[0].reason == "cap"
    assert "quiet period" in second.excluded[0].detail
    third = decide_and_record(ledger, profile, [app], occasion(t_ms=NOW + 11 * MINUTE))
    assert [o.channel for o in third.offers] == ["app"]
    # Two offers this visit (one per channel) use up the visit's budget.
    fourth = decide_and_record(
        ledger, profile, [campaign("app2", "enter")], occasion(t_ms=NOW + 30 * MINUTE)
    )
    assert not fourth.sent
    assert "2 offers this visit (limit 2)" in fourth.excluded[0].detail


def test_both_channels_at_once_use_one_slot_of_the_budget() -> None:
    ledger = CapLedger()
    both = campaign("both", "near_screen", channel="both")
    decision = decide_and_record(ledger, shopper(), [both], near_screen(NOW))
    assert sorted(o.channel for o in decision.offers) == ["app", "signage"]
    (entry,) = ledger.entries("u1")
    assert entry.channels == ("app", "signage")
    assert ledger.issued == {"both": 1}


def test_daily_cap_counts_across_visits_and_resets_at_the_stores_midnight() -> None:
    ledger = CapLedger()
    profile = shopper()
    campaigns = [campaign(f"c{i}", "enter") for i in range(6)]
    sent = []
    for i in range(5):
        t = ms(2026, 3, 3, 9 + 2 * i, 0, "Europe/London")
        sent.append(
            decide_and_record(ledger, profile, campaigns, occasion(t_ms=t, visit_id=f"v{i}")).sent
        )
    assert sent == [True, True, True, False, False]
    after_midnight = ms(2026, 3, 4, 0, 5, "Europe/London")
    assert decide(
        occasion(t_ms=after_midnight, visit_id="v9"),
        profile,
        campaigns,
        ledger,
        STORE,
        after_midnight,
    ).sent


def test_per_campaign_cap_per_shopper_per_day_leaves_room_for_others() -> None:
    ledger = CapLedger()
    profile = shopper()
    a = campaign("a", "enter", priority=5)
    b = campaign("b", "enter", priority=1)
    first = decide_and_record(ledger, profile, [a, b], occasion(t_ms=NOW, visit_id="v1"))
    second = decide_and_record(
        ledger, profile, [a, b], occasion(t_ms=NOW + 60 * MINUTE, visit_id="v2")
    )
    assert first.chosen_campaign_id == "a"
    assert second.chosen_campaign_id == "b"
    assert [(e.campaign_id, e.reason) for e in second.excluded] == [("a", "cap")]
    assert "got it 1 time(s) today (limit 1)" in second.excluded[0].detail


def test_budget_of_issued_and_redeemed_offers() -> None:
    ledger = CapLedger()
    capped = campaign("c", "enter", budget=Budget(max_issued=2), per_shopper_per_day=None)
    for i, expected in enumerate([True, True, False]):
        profile = shopper(f"u{i}")
        at = occasion(shopper_id=f"u{i}")
        assert decide_and_record(ledger, profile, [capped], at).sent == expected
    redeemed = campaign("r", "enter", budget=Budget(max_redeemed=1))
    fresh = CapLedger()
    fresh.record_redemption("r")
    decision = decide(occasion(), shopper(), [redeemed], fresh, STORE, NOW)
    assert decision.excluded[0].reason == "budget"
    assert decision.excluded[0].detail == "all 1 redemptions of its budget are used"


def test_the_ledger_round_trips_through_its_dict_form() -> None:
    ledger = CapLedger()
    decide_and_record(ledger, shopper(), [campaign("c", "enter")], occasion())
    ledger.record_redemption("c")
    again = CapLedger.from_dict(ledger.to_dict())
    assert again.by_shopper == ledger.by_shopper
    assert (again.issued, again.redeemed) == ({"c": 1}, {"c": 1})


def test_dwell_campaign_waits_for_its_dwell_time() -> None:
    dwell = campaign("d", "dwell", context=Context("dwell", min_dwell_s=20.0))
    early = decide(occasion("dwell", dwell_s=12.0), shopper(), [dwell], CapLedger(), STORE, NOW)
    assert not early.sent
    assert early.excluded[0].reason == "context"
    assert "12 s of the 20 s" in early.excluded[0].detail
    assert decide(occasion("dwell", dwell_s=20.0), shopper(), [dwell], CapLedger(), STORE, NOW).sent


def test_a_spent_shopper_budget_leaves_every_campaign_out_with_one_readable_reason() -> None:
    ledger = CapLedger()
    campaigns = [campaign(f"c{i}", "enter", name=f"Offer {i}") for i in range(6)]
    decide_and_record(ledger, shopper(), campaigns, occasion(t_ms=NOW))
    decision = decide(
        occasion(t_ms=NOW + MINUTE), shopper(), campaigns, ledger, STORE, NOW + MINUTE
    )
    assert not decision.sent
    assert decision.shopper_capped
    assert decision.not_applicable == 0
    assert {e.reason for e in decision.excluded} == {"cap"}
    assert len(decision.excluded) == 6
    assert (
        "“Offer 0”, “Offer 1” and 4 more were left out (cap): the last offer was 1 min ago, "
        "within the 10 min quiet period." in decision.explanation()
    )


def test_deciding_reads_the_ledger_and_never_changes_it() -> None:
    ledger = CapLedger()
    decide_and_record(ledger, shopper(), [campaign("c", "enter")], occasion())
    before = ledger.to_dict()
    for k in range(3):
        t = NOW + k * 30 * MINUTE
        decide(
            occasion(t_ms=t, visit_id="v2"), shopper(), [campaign("d", "enter")], ledger, STORE, t
        )
    assert ledger.to_dict() == before
