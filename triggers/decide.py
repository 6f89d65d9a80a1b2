"""One decision per occasion: which campaign (if any) reaches the shopper, on which channel, why.

Checks for each campaign that fits the event and place, in this order (the first failure is the
reason given): context (store, dwell), schedule (campaign dates/days/hours, opening hours, coupon
expiry), budget, consent, audience, the campaign's per-shopper daily cap, then the shopper's
budget across all campaigns and channels (global quiet hours, per visit, per day, quiet period).
Among the eligible, the highest priority wins (ties by id). A recommendation campaign with nothing
to recommend gives way to the next. If the winner holds the shopper out, nothing is sent and the
decision is logged as "would have got it".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from triggers.audience import first_failure
from triggers.campaigns import Campaign, Content
from triggers.holdout import in_holdout
from triggers.index import CampaignIndex
from triggers.ledger import CapLedger, LedgerEntry
from triggers.occasion import Occasion
from triggers.profiles import DAY_MS, ShopperProfile
from triggers.recommend import VARIETY_LOOKBACK_DAYS, CoPurchaseModel
from triggers.schedule import LocalTime, in_quiet_hours, local_time
from triggers.store import StoreSettings

ExclusionReason = Literal[
    "context", "schedule", "budget", "consent", "audience", "cap", "recommendation"
]
# Anchors for "goes with what you bought": the few most recent products are what the shopper
# has in mind; older ones dilute the partners.
MAX_ANCHORS = 5

_EVENT_WORDS = {
    "enter": "entered",
    "dwell": "lingered in",
    "facing": "faced the shelf of",
    "near_screen": "stood at the screen of",
    "app_open": "opened the app",
    "visit_end": "left the store",
}


@dataclass(frozen=True, slots=True)
class Exclusion:
    campaign_id: str
    campaign_name: str
    reason: ExclusionReason
    detail: str

    def sentence(self) -> str:
        return f"“{self.campaign_name}” was left out ({self.reason}): {self.detail}."


@dataclass(frozen=True, slots=True)
class Offer:
    """What is delivered. A signage offer has no shopper id and no recommended sku: a screen
    shows the campaign's generic content only, never anything learned about the shopper."""

    campaign_id: str
    channel: Literal["app", "signage"]
    content: Content
    coupon: str
    recommended_sku: str | None = None
    shopper_id: str | None = None
    screen_id: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    occasion: Occasion
    at: LocalTime
    timezone: str
    offers: tuple[Offer, ...]
    chosen_campaign_id: str | None
    chosen_name: str
    held_out: bool
    recommended_sku: str | None
    eligible: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    not_applicable: int
    why_chosen: str

    @property
    def sent(self) -> bool:
        return bool(self.offers)

    def ledger_entry(self) -> LedgerEntry | None:
        """What the cap ledger records: the offer sent, or the hold-out ghost."""
        if self.chosen_campaign_id is None:
            return None
        return LedgerEntry(
            t_ms=self.occasion.t_ms,
            campaign_id=self.chosen_campaign_id,
            store_day=self.at.date.toordinal(),
            visit_id=self.occasion.visit_id,
            channels=tuple(o.channel for o in self.offers),
            sku=self.recommended_sku,
            held_out=self.held_out,
        )

    def explanation(self) -> str:
        """The decision in sentences a store manager can read."""
        o = self.occasion
        where = f" {o.zone_id}" if o.zone_id and o.kind != "app_open" else ""
        if o.kind == "app_open" and o.zone_id:
            where = f" in {o.zone_id}"
        lines = [
            f"At {self.at} ({self.timezone}) shopper {o.shopper_id} {_EVENT_WORDS[o.kind]}{where}."
        ]
        if self.held_out:
            lines.append(
                f"Nothing was sent: “{self.chosen_name}” would have been chosen "
                f"({self.why_chosen}), "
                "but this shopper is in its hold-out group; logged as “would have got it”."
            )
        elif self.offers:
            channels = " and ".join(
                "the app" if x.channel == "app" else f"screen {x.screen_id}" for x in self.offers
            )
            lines.append(f"Sent “{self.chosen_name}” to {channels}: {self.why_chosen}.")
        else:
            lines.append("Nothing was sent: no campaign was eligible.")
        if self.eligible:
            lines.append(f"Eligible: {', '.join(self.eligible)}.")
        lines += [e.sentence() for e in self.excluded]
        if self.not_applicable:
            n = self.not_applicable
            lines.append(
                "1 other campaign is for another event or place."
                if n == 1
                else f"{n} other campaigns are for other events or places."
            )
        return " ".join(lines)


Blocked = tuple[ExclusionReason, str]


def _shopper_block(
    occasion: Occasion, ledger: CapLedger, store: StoreSettings, at: LocalTime, now_ms: int
) -> tuple[Blocked | None, dict[str, int]]:
    """Why the shopper can get no offer at all now (None if they can), and their offers per
    campaign today."""
    policy = store.policy
    if policy.quiet_hours and in_quiet_hours(at, policy.quiet_hours):
        return ("schedule", "the store's quiet hours allow no offers now"), {}
    tally = ledger.tally(occasion.shopper_id, at.date.toordinal(), occasion.visit_id)
    if tally.this_visit >= policy.max_per_visit:
        limit = policy.max_per_visit
        return ("cap", f"the shopper had {tally.this_visit} offers this visit (limit {limit})"), {}
    if tally.today >= policy.max_per_day:
        limit = policy.max_per_day
        return ("cap", f"the shopper had {tally.today} offers today (limit {limit})"), {}
    if tally.last_t_ms is not None and now_ms - tally.last_t_ms < policy.quiet_period_s * 1000:
        minutes = (now_ms - tally.last_t_ms) / 60_000
        quiet = policy.quiet_period_s / 60
        return (
            "cap",
            f"the last offer was {minutes:.0f} min ago, within the {quiet:g} min quiet period",
        ), {}
    return None, tally.per_campaign_today


def _why_excluded(
    c: Campaign,
    occasion: Occasion,
    profile: ShopperProfile,
    ledger: CapLedger,
    store: StoreSettings,
    at: LocalTime,
    now_ms: int,
    per_campaign_today: dict[str, int],
) -> tuple[ExclusionReason, str] | None:
    why = c.context.why_not_now(occasion)
    if why is None and c.channel == "signage" and occasion.screen_id is None:
        why = "it shows on signage and there is no screen in front of the shopper"
    if why is not None:
        return "context", why
    why = c.schedule.why_not_running(at, store.opening_hours)
    if why is None and c.content.expires_ms is not None and now_ms >= c.content.expires_ms:
        why = "its coupon has expired"
    if why is not None:
        return "schedule", why
    budget = c.budget
    if budget.max_issued is not None and ledger.issued.get(c.id, 0) >= budget.max_issued:
        return "budget", f"all {budget.max_issued} offers of its budget are issued"
    if budget.max_redeemed is not None and ledger.redeemed.get(c.id, 0) >= budget.max_redeemed:
        return "budget", f"all {budget.max_redeemed} redemptions of its budget are used"
    if c.personalised and "personalised_offers" not in profile.consents:
        return (
            "consent",
            "it is personalised and the shopper has not consented to personalised offers",
        )
    if c.channel == "signage" and "signage" not in profile.consents:
        return "consent", "it shows on signage and the shopper has not consented to signage offers"
    if c.audience is not None and not c.audience.matches(profile, now_ms):
        missing = first_failure(c.audience, profile, now_ms) or c.audience.describe()
        return "audience", f"the shopper is not in its audience (needs: {missing})"
    cap = c.per_shopper_per_day
    if cap is not None and per_campaign_today.get(c.id, 0) >= cap:
        return (
            "cap",
            f"the shopper already got it {per_campaign_today[c.id]} time(s) today (limit {cap})",
        )
    return None


def _recommend(
    c: Campaign,
    occasion: Occasion,
    profile: ShopperProfile,
    ledger: CapLedger,
    recommender: CoPurchaseModel | None,
    now_ms: int,
) -> tuple[str | None, str]:
    """The product for a recommendation campaign and why, in words."""
    spec = c.recommendation
    if spec is None:
        return c.content.promoted_sku, ""
    if recommender is None:
        return None, "no co-purchase model is loaded"
    history = profile.history
    if spec.anchor_sku is not None:
        anchors = [spec.anchor_sku]
    else:
        anchors = history.skus_bought_since(int(now_ms - spec.anchor_days * DAY_MS))[:MAX_ANCHORS]
    if not anchors:
        return None, "the shopper has no recent purchase to recommend from"
    owned = history.skus_bought_since(int(now_ms - spec.exclude_owned_days * DAY_MS))
    ranked = recommender.related(anchors, occasion.categories, owned)
    if not ranked:
        return None, "nothing bought together with the shopper's products fits this place"
    offered = ledger.offered_skus_since(
        occasion.shopper_id, now_ms - VARIETY_LOOKBACK_DAYS * DAY_MS
    )
    visit = occasion.visit_id or str(now_ms // DAY_MS)
    sku = recommender.choose(ranked, offered, f"{c.id}\x1f{occasion.shopper_id}\x1f{visit}")
    score = dict(ranked)[sku] if sku is not None else 0.0
    measure = recommender.settings.measure
    return sku, f"product {sku} is often bought with {', '.join(anchors)} ({measure} {score:.2f})"


def decide(
    occasion: Occasion,
    profile: ShopperProfile,
    campaigns: CampaignIndex | Sequence[Campaign],
    ledger: CapLedger,
    store: StoreSettings,
    now_ms: int,
    recommender: CoPurchaseModel | None = None,
) -> Decision:
    """Decide for one occasion. Reads ``ledger`` and never changes it (see ``CapLedger.record``).

    ``campaigns`` as a :class:`CampaignIndex` looks only at campaigns filed under the occasion's
    event and place; as a plain sequence it checks every campaign (the obvious path, same result).
    """
    if profile.shopper_id != occasion.shopper_id:
        raise ValueError(f"profile {profile.shopper_id} is not shopper {occasion.shopper_id}")
    at = local_time(now_ms, store.zone)
    if isinstance(campaigns, CampaignIndex):
        candidates, total = campaigns.candidates(occasion), len(campaigns)
    else:
        candidates, total = list(campaigns), len(campaigns)
    placed = [c for c in candidates if c.context.applies_to_place(occasion)]
    block, per_campaign_today = (
        _shopper_block(occasion, ledger, store, at, now_ms) if placed else (None, {})
    )
    excluded: list[Exclusion] = []
    eligible: list[Campaign] = []
    for c in placed:
        why = _why_excluded(c, occasion, profile, ledger, store, at, now_ms, per_campaign_today)
        if why is None:
            why = block
        if why is None:
            eligible.append(c)
        else:
            excluded.append(Exclusion(c.id, c.name, why[0], why[1]))
    eligible.sort(key=lambda c: (-c.priority, c.id))
    return _choose(
        occasion,
        profile,
        eligible,
        excluded,
        ledger,
        store,
        at,
        now_ms,
        recommender,
        total - len(placed),
    )


def _choose(
    occasion: Occasion,
    profile: ShopperProfile,
    eligible: list[Campaign],
    excluded: list[Exclusion],
    ledger: CapLedger,
    store: StoreSettings,
    at: LocalTime,
    now_ms: int,
    recommender: CoPurchaseModel | None,
    not_applicable: int,
) -> Decision:
    usable = list(eligible)
    for c in eligible:
        sku, because = _recommend(c, occasion, profile, ledger, recommender, now_ms)
        if c.recommendation is not None and sku is None:
            excluded.append(Exclusion(c.id, c.name, "recommendation", because))
            usable.remove(c)
            continue
        why = (
            "it is the only eligible campaign"
            if len(usable) == 1
            else f"it has the highest priority ({c.priority}) of the {len(usable)} eligible"
        )
        if len(usable) > 1 and c.priority == usable[1].priority:
            why += " (tied on priority, first by id)"
        if because:
            why += f"; {because}"
        held_out = in_holdout(c.id, occasion.shopper_id, c.holdout_share)
        offers = () if held_out else _offers(c, occasion, profile, sku)
        return Decision(
            occasion,
            at,
            store.timezone,
            offers,
            c.id,
            c.name,
            held_out,
            sku,
            tuple(e.id for e in usable),
            tuple(excluded),
            not_applicable,
            why,
        )
    return Decision(
        occasion,
        at,
        store.timezone,
        (),
        None,
        "",
        False,
        None,
        (),
        tuple(excluded),
        not_applicable,
        "",
    )


def _offers(
    c: Campaign, occasion: Occasion, profile: ShopperProfile, sku: str | None
) -> tuple[Offer, ...]:
    offers: list[Offer] = []
    if c.uses_app:
        content = (
            c.content if sku == c.content.promoted_sku else replace(c.content, promoted_sku=sku)
        )
        offers.append(
            Offer(c.id, "app", content, c.content.coupon_code, sku, shopper_id=occasion.shopper_id)
        )
    if c.uses_signage and occasion.screen_id is not None and "signage" in profile.consents:
        # The screen gets the campaign's own content: nothing chosen from this shopper's data.
        offers.append(
            Offer(c.id, "signage", c.content, c.content.coupon_code, screen_id=occasion.screen_id)
        )
    return tuple(offers)
