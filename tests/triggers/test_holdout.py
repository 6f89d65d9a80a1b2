"""Hold-out: stable by hash, the right share, never shown, logged as "would have got it"."""

from __future__ import annotations

from scipy.stats import binom

from tests.triggers.builders import NOW, STORE, campaign, decide_and_record, occasion, shopper
from triggers import CapLedger, decide, in_holdout
from triggers.holdout import holdout_position


def test_assignment_is_stable_and_depends_on_campaign_and_shopper() -> None:
    assert holdout_position("c1", "u1") == holdout_position("c1", "u1")
    assert holdout_position("c1", "u1") != holdout_position("c2", "u1")
    assert holdout_position("c1", "u1") != holdout_position("c1", "u2")
    # Raising the share only adds shoppers: whoever was held out at 10 % still is at 20 %.
    ids = [f"u{i}" for i in range(2000)]
    at_10 = {s for s in ids if in_holdout("c1", s, 0.10)}
    at_20 = {s for s in ids if in_holdout("c1", s, 0.20)}
    assert at_10 < at_20


def test_share_held_out_is_within_binomial_bounds() -> None:
    n, share = 20_000, 0.1
    held = sum(in_holdout("spring", f"shopper-{i}", share) for i in range(n))
    low, high = binom.ppf([0.0005, 0.9995], n, share)
    assert low <= held <= high
    # Two campaigns' hold-outs are independent: the overlap is about share² of shoppers.
    both = sum(
        in_holdout("spring", f"shopper-{i}", share) and in_holdout("summer", f"shopper-{i}", share)
        for i in range(n)
    )
    low, high = binom.ppf([0.0005, 0.9995], n, share * share)
    assert low <= both <= high


def test_held_out_shopper_gets_nothing_and_is_logged_as_would_have_got_it() -> None:
    c = campaign("c1", "enter", holdout_share=0.5)
    held = next(f"u{i}" for i in range(100) if in_holdout("c1", f"u{i}", 0.5))
    ledger = CapLedger()
    decision = decide_and_record(ledger, shopper(held), [c], occasion(shopper_id=held))
    assert decision.offers == ()
    assert decision.held_out
    assert decision.chosen_campaign_id == "c1"
    assert [(e.campaign_id, e.reason) for e in decision.excluded] == [("c1", "holdout")]
    assert "would have got it" in decision.excluded[0].detail
    assert "hold-out" in decision.explanation()
    assert "would have got it" in decision.explanation()
    (entry,) = ledger.entries(held)
    assert entry.held_out
    assert ledger.issued == {}  # a ghost spends no budget
    # ...but it holds the shopper's slot, as a real offer would for the treated group.
    later = decide(
        occasion(shopper_id=held, t_ms=NOW + 60_000),
        shopper(held),
        [campaign("c2", "enter")],
        ledger,
        STORE,
        NOW + 60_000,
    )
    assert not later.sent
    assert later.excluded[0].reason == "cap"


def test_same_shopper_is_held_out_on_every_occasion() -> None:
    c = campaign("c1", "enter", holdout_share=0.3, per_shopper_per_day=None)
    for i in range(40):
        sid = f"u{i}"
        outcomes = {
            decide(
                occasion(shopper_id=sid, t_ms=NOW + k * 86_400_000),
                shopper(sid),
                [c],
                CapLedger(),
                STORE,
                NOW + k * 86_400_000,
            ).held_out
            for k in range(5)
        }
        assert outcomes == {in_holdout("c1", sid, 0.3)}
