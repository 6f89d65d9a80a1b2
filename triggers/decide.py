"""One decision per occasion: which campaign (if any) reaches the shopper, on which channel, why.

First the shopper's budget across all campaigns and channels (global quiet hours, per visit, per
day, quiet period): when it is spent, every campaign that fits the event and place is left out
for that reason and nothing else is looked at. Otherwise each such campaign is checked in this
order (the first failure is the reason given): context (store, dwell, a screen for signage),
consent (before anything reads the shopper's data), schedule (opening hours, campaign
dates/days/hours, coupon expiry), budget, audience, and the campaign's per-shopper daily cap.
Among the eligible, the highest priority wins (ties by id). A recommendation campaign with nothing
to recommend gives way to the next. If the winner holds the shopper out, nothing is sent and the
decision is logged as "would have got it".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    "context", "schedule", "budget", "consent", "audience", "cap", "recommendation", "holdout"
]
# Anchors for "goes with what you bought": the few most recent products are what the shopper
# has in mind; older ones dilute the partners.
MAX_ANCHORS = 5

_EVENT_WORDS = {
    "enter": "entered",
    "dwell": "lingered in",
    "facing": "faced the shelf of",
    "near_screen": "stood at the screen in",
    "app_open": "opened the app",
    "visit_end": "left the store",
}


class Exclusion:
    """A campaign left out and why. ``detail`` is put into words only when read: most
    decisions are never read by a person, and wording every exclusion would cost more than
    deciding."""

    __slots__ = ("_because", "_detail", "campaign_id", "campaign_name", "reason")

    def __init__(
        self,
        campaign_id: str,
        campaign_name: str,
        reason: ExclusionReason,
        because: str | Callable[[], str],
    ) -> None:
        self.campaign_id = campaign_id
        self.campaign_name = campaign_name
        self.reason = reason
        self._detail: str | None = because if isinstance(because, str) else None
        self._because = because

    @property
    def detail(self) -> str:
        if self._detail is None:
            self._detail = self._because()  # type: ignore[operator]
        return self._detail

    def sentence(self) -> str:
        return f"“{self.campaign_name}” was left out ({self.reason}): {self.detail}."

    def _key(self) -> tuple[str, str, str, str]:
        return (self.campaign_id, self.campaign_name, self.reason, self.detail)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Exclusion) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Exclusion({self.campaign_id!r}, {self.reason!r}, {self.detail!r})"


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
    eligible_names: tuple[str, ...] = ()
    # True when the shopper's budget across campaigns was spent and no campaign was looked at.
    shopper_capped: bool = False

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
        where = ""
        if o.zone_id and o.kind != "visit_end":
            where = f" in {o.zone_id}" if o.kind == "app_open" else f" {o.zone_id}"
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
            names = self.eligible_names or self.eligible
            lines.append(f"Eligible: {', '.join(f'“{n}”' for n in names)}.")
        lines += _grouped(self.excluded)
        if self.not_applicable:
            n = self.not_applicable
            lines.append(
                "1 other campaign is for another event or place."
                if n == 1
                else f"{n} other campaigns are for other events or places."
            )
        return " ".join(lines)


def _grouped(excluded: Sequence[Exclusion]) -> list[str]:
    """One sentence per distinct reason: “A”, “B” and 3 more were left out (cap): ..."""
    groups: dict[tuple[str, str], list[str]] = {}
    for e in excluded:
        if e.reason == "holdout":
            continue  # the explanation's second sentence already says it
        groups.setdefault((e.reason, e.detail), []).append(f"“{e.campaign_name}”")
    sentences = []
    for (reason, detail), names in groups.items():
        if len(names) == 1:
            who = f"{names[0]} was"
        elif len(names) <= 3:
            who = f"{', '.join(names[:-1])} and {names[-1]} were"
        else:
            who = f"{', '.join(names[:2])} and {len(names) - 2} more were"
        sentences.append(f"{who} left out ({reason}): {detail}.")
    return sentences


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
    store_open: bool,
    at: LocalTime,
    now_ms: int,
    per_campaign_today: dict[str, int],
) -> tuple[ExclusionReason, Callable[[], str]] | None:
    """The first check the campaign fails and its reason in words (built only when read)."""
    context = c.context
    if context.store_ids or context.min_dwell_s or c.channel == "signage":
        why = context.why_not_now(occasion)
        if why is None and c.channel == "signage" and occasion.screen_id is None:
            why = "it shows on signage and there is no screen in front of the shopper"
        if why is not None:
            return "context", _said(why)
    if "personalised_offers" not in profile.consents and c.personalised:
        return "consent", _NO_PERSONALISED_CONSENT
    if c.channel == "signage" and "signage" not in profile.consents:
        return "consent", _NO_SIGNAGE_CONSENT
    schedule = c.schedule
    if schedule.during_opening_hours and not store_open:
        return "schedule", _STORE_CLOSED
    if not schedule.always and not schedule.runs_at(at):
        return "schedule", lambda: schedule.why_not_running(at, None) or ""
    if c.content.expires_ms is not None and now_ms >= c.content.expires_ms:
        return "schedule", _said("its coupon has expired")
    budget = c.budget
    if budget.max_issued is not None and ledger.issued.get(c.id, 0) >= budget.max_issued:
        return "budget", lambda: f"all {budget.max_issued} offers of its budget are issued"
    if budget.max_redeemed is not None and ledger.redeemed.get(c.id, 0) >= budget.max_redeemed:
        return "budget", lambda: f"all {budget.max_redeemed} redemptions of its budget are used"
    audience = c.audience
    if audience is not None and not audience.matches(profile, now_ms):
        return (
            "audience",
            lambda: (
                "the shopper is not in its audience (needs: "
                f"{first_failure(audience, profile, now_ms) or audience.describe()})"
            ),
        )
    cap = c.per_shopper_per_day
    if cap is not None and per_campaign_today.get(c.id, 0) >= cap:
        got = per_campaign_today[c.id]
        return "cap", lambda: f"the shopper already got it {got} time(s) today (limit {cap})"
    return None


def _said(text: str) -> Callable[[], str]:
    return lambda: text


_NO_PERSONALISED_CONSENT = _said(
    "it is personalised and the shopper has not consented to personalised offers"
)
_STORE_CLOSED = _said("the store is closed")
_HELD_OUT = (
    "the shopper is in its hold-out group: not shown, logged as “would have got it” for measurement"
)
_NO_SIGNAGE_CONSENT = _said(
    "it shows on signage and the shopper has not consented to signage offers"
)


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
    if store.store_id != occasion.store_id:
        raise ValueError(f"settings of store {store.store_id} given for store {occasion.store_id}")
    at = local_time(now_ms, store.zone)
    if isinstance(campaigns, CampaignIndex):
        candidates, total = campaigns.candidates(occasion), len(campaigns)
    else:
        candidates, total = list(campaigns), len(campaigns)
    placed = [c for c in candidates if c.context.applies_to_place(occasion)]
    not_applicable = total - len(placed)
    block, per_campaign_today = (
        _shopper_block(occasion, ledger, store, at, now_ms) if placed else (None, {})
    )
    store_open = store.opening_hours is None or store.opening_hours.is_open(at)
    excluded: list[Exclusion] = []
    eligible: list[Campaign] = []
    if block is not None:
        # The shopper can get nothing now: no campaign is looked at (nor their data read).
        because = _said(block[1])
        excluded = [Exclusion(c.id, c.name, block[0], because) for c in placed]
        placed = []
    for c in placed:
        why = _why_excluded(
            c, occasion, profile, ledger, store_open, at, now_ms, per_campaign_today
        )
        if why is None:
            eligible.append(c)
        else:
            excluded.append(Exclusion(c.id, c.name, why[0], why[1]))
    eligible.sort(key=lambda c: (-c.priority, c.id))
    decision = _choose(
        occasion,
        profile,
        eligible,
        excluded,
        ledger,
        store,
        at,
        now_ms,
        recommender,
        not_applicable,
    )
    return replace(decision, shopper_capped=True) if block is not None else decision


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
        if held_out:
            excluded.append(Exclusion(c.id, c.name, "holdout", _HELD_OUT))
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
            tuple(e.name for e in usable),
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
