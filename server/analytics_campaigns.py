"""Campaign results per campaign and per zone, from the offers table (issue 9).

The maths is ``triggers.measure.campaign_report`` (uplift over the hold-out with Newcombe's
interval and its verdict sentence); this module only reads offers, their opens and redemptions,
and the shoppers' purchases. A purchase counts when the shopper bought the promoted product
within ``ATTRIBUTION_WINDOW_MS`` after their first offer (or hold-out ghost) of the campaign.
``read_baskets`` and ``campaign_inputs`` are the one place offers and purchase rows become
``campaign_report``'s inputs; ``server.uplift_report`` uses them too. Offers' ``issued_ms`` and a
till's ``t_ms`` are both wall-clock times; a shopper's purchases count from any store (loyalty
data). A redemption's order value is the total of the basket paid within
``REDEMPTION_BASKET_MS`` after it: the basket the coupon was redeemed in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.tables import Campaign, Offer, Product, Purchase
from triggers.measure import CampaignReport, IssuedOffer, Response, campaign_report
from triggers.profiles import DAY_MS
from triggers.profiles import Purchase as ShopperPurchase
from zones.analytics.grid import suppression_note

# A week: a weekly shopper's next basket after the offer (triggers.measure compares the rates
# of buying the promoted product in this window after the first offer). What a shop-floor offer
# can be credited with.
ATTRIBUTION_WINDOW_MS = 7 * DAY_MS
# An order belongs to a redemption when the basket was paid within this long after it.
REDEMPTION_BASKET_MS = 3_600_000
_SENT = ("delivered", "acked", "opened", "redeemed")


@dataclass(frozen=True)
class Baskets:
    """The shoppers' purchase lines as ``triggers`` reads them, and each basket's total."""

    purchases: list[ShopperPurchase]
    # Per shopper: (paid at, total) of each basket, in time order.
    totals: dict[str, list[tuple[int, float]]]

    def order_value(self, offer: Offer) -> float:
        """The total of the basket paid within ``REDEMPTION_BASKET_MS`` after the redemption."""
        if offer.redeemed_ms is None:
            return 0.0
        return next(
            (total for t, total in self.totals.get(offer.customer_id, ())
             if offer.redeemed_ms <= t <= offer.redeemed_ms + REDEMPTION_BASKET_MS),
            0.0,
        )  # fmt: skip


def read_baskets(
    session: Session,
    shoppers: Collection[str],
    from_ms: int | None = None,
    until_ms: int | None = None,
) -> Baskets:
    """The shoppers' purchases (any store) paid in [from_ms, until_ms), unbounded where None."""
    if not shoppers:
        return Baskets([], {})
    query = (
        select(Purchase, Product.category)
        .join(Product, Product.sku == Purchase.sku, isouter=True)
        .where(Purchase.customer_id.in_(list(shoppers)))
        .order_by(Purchase.t_ms)
    )
    if from_ms is not None:
        query = query.where(Purchase.t_ms >= from_ms)
    if until_ms is not None:
        query = query.where(Purchase.t_ms < until_ms)
    lines = session.execute(query).all()
    purchases = [
        # triggers counts whole items; weighed goods count as one.
        ShopperPurchase(p.customer_id, p.sku, max(1, round(p.quantity)), p.price, p.t_ms,
                        p.basket_id, category or "")
        for p, category in lines
    ]  # fmt: skip
    # A basket is paid at its first line's time (lines come in time order).
    paid: dict[tuple[str, str], list[float]] = {}
    for p, _ in lines:
        paid.setdefault((p.customer_id, p.basket_id), [float(p.t_ms), 0.0])[1] += (
            p.quantity * p.price
        )
    totals: dict[str, list[tuple[int, float]]] = {}
    for (customer, _), (t, total) in paid.items():
        totals.setdefault(customer, []).append((int(t), total))
    return Baskets(purchases, totals)


def promoted_sku(offer: Offer) -> str | None:
    """The product the offer promotes; None: any purchase converts."""
    sku = offer.content.get("promoted_sku") if isinstance(offer.content, dict) else None
    return sku if isinstance(sku, str) and sku else None


def campaign_inputs(
    offers: Sequence[Offer], baskets: Baskets
) -> tuple[list[IssuedOffer], list[Response], list[ShopperPurchase]]:
    """``campaign_report``'s issued offers (and hold-out ghosts), responses and purchases."""
    issued, responses = [], []
    for offer in offers:
        campaign = str(offer.campaign_id)
        sku, held_out = promoted_sku(offer), offer.status == "held_out"
        issued.append(IssuedOffer(campaign, offer.customer_id, offer.issued_ms, sku, held_out))
        if offer.opened_ms is not None:
            responses.append(Response(campaign, offer.customer_id, "open", offer.opened_ms))
        if offer.redeemed_ms is not None:
            responses.append(Response(campaign, offer.customer_id, "redeem", offer.redeemed_ms,
                                      baskets.order_value(offer)))  # fmt: skip
    return issued, responses, baskets.purchases


@dataclass(frozen=True)
class CampaignRow:
    """One campaign (``zone_id`` None) or one campaign in one zone; figures None if suppressed."""

    campaign_id: int
    name: str
    zone_id: str | None
    shoppers: int
    exposed_app: int | None
    exposed_signage: int | None
    report: CampaignReport | None
    suppressed: bool

    @property
    def purchases(self) -> int | None:
        """Exposed shoppers who bought the promoted product within the window."""
        if self.report is None or self.report.uplift is None:
            return None
        return round(self.report.uplift.treated_rate * self.report.treated_shoppers)


@dataclass(frozen=True)
class CampaignTable:
    rows: tuple[CampaignRow, ...]
    k: int

    @property
    def n_suppressed(self) -> int:
        return sum(row.suppressed for row in self.rows)

    @property
    def note(self) -> str:
        return suppression_note(self.n_suppressed, self.k, "rows")


def _row(
    campaign: Campaign, zone_id: str | None, offers: Sequence[Offer], baskets: Baskets, k: int
) -> CampaignRow:
    shoppers = len({o.customer_id for o in offers})
    if shoppers < k:
        return CampaignRow(campaign.id, campaign.name, zone_id, shoppers, None, None, None, True)
    report = campaign_report(
        str(campaign.id), *campaign_inputs(offers, baskets), ATTRIBUTION_WINDOW_MS
    )
    app = sum(o.channel == "app" and o.status in _SENT for o in offers)
    signage = sum(o.channel == "signage" and o.status != "held_out" for o in offers)
    return CampaignRow(campaign.id, campaign.name, zone_id, shoppers, app, signage, report, False)


def campaign_table(
    session: Session, store_id: int, from_ms: int, to_ms: int, k: int
) -> CampaignTable:
    """Per campaign with offers issued in the range, then per zone of each campaign."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.store_id == store_id, Offer.issued_ms >= from_ms, Offer.issued_ms < to_ms,
               Offer.campaign_id.is_not(None))
        .order_by(Offer.issued_ms)
    ).all()  # fmt: skip
    baskets = read_baskets(
        session, {o.customer_id for o in offers}, from_ms, to_ms + ATTRIBUTION_WINDOW_MS
    )
    campaigns = {
        c.id: c for c in session.scalars(select(Campaign).where(Campaign.store_id == store_id))
    }
    rows = []
    for campaign_id in sorted({o.campaign_id for o in offers if o.campaign_id in campaigns}):
        mine = [o for o in offers if o.campaign_id == campaign_id]
        campaign = campaigns[campaign_id]
        rows.append(_row(campaign, None, mine, baskets, k))
        for zone_id in sorted({o.zone_id for o in mine if o.zone_id is not None}):
            in_zone = [o for o in mine if o.zone_id == zone_id]
            rows.append(_row(campaign, zone_id, in_zone, baskets, k))
    return CampaignTable(tuple(rows), k)
