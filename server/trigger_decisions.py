"""``PipelineWiring.decide`` on ``triggers.decide``: the server's request in, offer drafts out.

What triggers needs is rebuilt only when its source changes, never per decision:

- campaigns: parsed once per (campaign id, version) and indexed once per set of active campaigns;
- the co-purchase recommenders: one per store, built from the store's own baskets (or from every
  store's while it has fewer than ``MIN_STORE_BASKETS``) and the catalogue, rebuilt when purchases
  or products change (a CSV import or a till's basket, in any process), checked at most every
  ``RECOMMENDER_CHECK_MS``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Literal

import numpy as np
from sqlalchemy import func, select

from server.clock import now_ms
from server.database import Database
from server.pipeline import DecisionRequest, DecisionResult, OfferDraft, ProfileRecord
from server.store_snapshot import SNAPSHOT_TTL_MS, CampaignCounts
from server.tables import Product as ProductRow
from server.tables import Purchase as PurchaseRow
from triggers import (
    Campaign,
    CampaignIndex,
    CapLedger,
    CoPurchaseModel,
    Decision,
    Occasion,
    Product,
    Purchase,
    ShopperProfile,
    StoreSettings,
    decide,
)

log = logging.getLogger(__name__)

# Purchases imported in another process reach this one's recommendations within this long.
RECOMMENDER_CHECK_MS = SNAPSHOT_TTL_MS
# Below this many baskets of its own a store's co-purchase counts are too thin (most product pairs
# seen once or never): it uses every store's baskets instead.
MIN_STORE_BASKETS = 200


def campaign_from_row(campaign: Mapping[str, Any]) -> Campaign:
    """A stored campaign (``{"id", "name", "document"}``) as triggers' ``Campaign``: the row's id
    and name win over any in the document."""
    body = {**campaign["document"], "id": str(campaign["id"]), "name": str(campaign["name"])}
    return Campaign.from_dict(body)


class CampaignCache:
    """Parsed campaigns by (id, version) and the index of the current active set."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, int], Campaign] = {}
        self._index_key: tuple[tuple[int, int], ...] = ()
        self._index = CampaignIndex(())
        self._lock = threading.Lock()

    def index(self, campaigns: tuple[dict[str, Any], ...]) -> CampaignIndex:
        key = tuple((int(c["id"]), int(c.get("version", 0))) for c in campaigns)
        with self._lock:
            if key == self._index_key:
                return self._index
            parsed = {}
            for k, campaign in zip(key, campaigns, strict=True):
                if k not in self._parsed:
                    self._parsed[k] = campaign_from_row(campaign)
                parsed[k] = self._parsed[k]
            self._parsed = parsed  # versions no longer active are let go
            self._index_key, self._index = key, CampaignIndex(parsed.values())
            return self._index


class RecommenderCache:
    """Co-purchase models per store, all rebuilt when purchases or products change.

    A store's model is built from its own baskets (``purchases.store_id``) once it has
    ``MIN_STORE_BASKETS`` of them; until then (a new store, or loyalty history imported without
    stores) it shares the model built from every basket of every store.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._checked_ms: int | None = None
        self._signature: tuple[int, int, int] | None = None
        self._models: dict[int | None, CoPurchaseModel | None] = {}  # None: all stores

    def recommender_for(self, store_id: int) -> CoPurchaseModel | None:
        now = now_ms()
        with self._lock, self.database.session() as session:
            if self._checked_ms is None or now - self._checked_ms >= RECOMMENDER_CHECK_MS:
                self._checked_ms = now
                signature = self._current_signature(session)
                if signature != self._signature:
                    self._models.clear()
                    self._signature = signature
            if store_id not in self._models:
                self._models[store_id] = self._model_for(session, store_id)
            return self._models[store_id]

    @staticmethod
    def _current_signature(session: Any) -> tuple[int, int, int]:
        n_lines, last_id = session.execute(
            select(func.count(), func.coalesce(func.max(PurchaseRow.id), 0))
        ).one()
        n_products = session.scalar(select(func.count()).select_from(ProductRow)) or 0
        return int(n_lines), int(last_id), int(n_products)

    def _model_for(self, session: Any, store_id: int) -> CoPurchaseModel | None:
        own_baskets = session.scalar(
            select(func.count(func.distinct(PurchaseRow.basket_id))).where(
                PurchaseRow.store_id == store_id
            )
        )
        if own_baskets >= MIN_STORE_BASKETS:
            return self._build(session, store_id)
        if None not in self._models:
            self._models[None] = self._build(session, None)
        return self._models[None]

    @staticmethod
    def _build(session: Any, store_id: int | None) -> CoPurchaseModel | None:
        """From one store's baskets, or (None) every basket, keyed by store so two stores' tills
        reusing a basket number stay two baskets."""
        query = select(PurchaseRow.store_id, PurchaseRow.basket_id, PurchaseRow.sku)
        if store_id is not None:
            query = query.where(PurchaseRow.store_id == store_id)
        lines = session.execute(query).all()
        if not lines:
            return None
        catalogue = {
            p.sku: Product(p.sku, p.name, p.category, p.price)
            for p in session.scalars(select(ProductRow))
        }
        baskets = np.array([f"{s or ''}:{b}" for s, b, _ in lines], dtype=str)
        skus = np.array([sku for _, _, sku in lines], dtype=str)
        return CoPurchaseModel.from_columns(baskets, skus, catalogue)


def shopper_profile(record: ProfileRecord) -> ShopperProfile:
    """Consents are the ones the app declared in this connection's hello."""
    purchases = tuple(
        Purchase(
            p.customer_id,
            p.sku,
            max(1, round(p.quantity)),  # triggers counts whole items; weighed goods count as one
            p.price,
            p.t_ms,
            p.basket_id,
            p.category,
        )
        for p in record.purchases
    )
    return ShopperProfile(
        record.shopper_id, record.gender, record.age, record.tier, record.consents, purchases
    )


def cap_ledger(stored: Mapping[str, Any], counts: Mapping[int, CampaignCounts]) -> CapLedger:
    """The shopper's stored entries, with the campaign-wide totals (for budgets) from the
    database, which counts every shopper's offers rather than this one's."""
    ledger = CapLedger.from_dict(stored)
    ledger.issued = {str(c): n.issued for c, n in counts.items()}
    ledger.redeemed = {str(c): n.redeemed for c, n in counts.items()}
    return ledger


def stored_ledger(ledger: CapLedger) -> dict[str, Any]:
    """What is kept per shopper: the entries only (totals live in the offers table)."""
    return {**ledger.to_dict(), "issued": {}, "redeemed": {}}


def _content(fields: Any) -> dict[str, Any]:
    """Content as sent: the fields that are set, nothing else."""
    return {k: v for k, v in asdict(fields).items() if v not in (None, "")}


def offer_drafts(decision: Decision, index: CampaignIndex) -> tuple[OfferDraft, ...]:
    if not decision.offers and not decision.held_out:
        return ()  # most decisions send nothing; their explanation is never put into words
    explanation = decision.explanation()
    if decision.held_out and decision.chosen_campaign_id is not None:
        # Stored as "would have got it" for the uplift measurement; never sent.
        chosen = next(c for c in index.campaigns if c.id == decision.chosen_campaign_id)
        channel: Literal["app", "signage"] = "app" if chosen.uses_app else "signage"
        return (
            OfferDraft(
                channel,
                _content(chosen.content),
                int(chosen.id),
                decision.occasion.screen_id if channel == "signage" else None,
                explanation,
                held_out=True,
            ),
        )
    return tuple(
        OfferDraft(
            offer.channel,
            _content(offer.content),
            int(offer.campaign_id),
            offer.screen_id,
            explanation,
        )
        for offer in decision.offers
    )


class TriggersDecider:
    """``DecideFn``: one ``triggers.decide`` call per occasion, caches shared across shoppers."""

    def __init__(self, database: Database) -> None:
        self.campaigns = CampaignCache()
        self.recommenders = RecommenderCache(database)

    def could_offer(self, occasion: Occasion, campaigns: tuple[dict[str, Any], ...]) -> bool:
        """``PipelineWiring.may_offer``: whether a campaign is filed under the occasion's event
        and place. Without one, ``decide`` chooses nothing, so the decision would send nothing,
        hold nobody out and leave the cap ledger as it was."""
        index = self.campaigns.index(campaigns)
        return any(c.context.applies_to_place(occasion) for c in index.candidates(occasion))

    def __call__(self, request: DecisionRequest) -> DecisionResult:
        occasion = request.occasion
        index = self.campaigns.index(request.campaigns)
        ledger = cap_ledger(request.cap_ledger, request.campaign_counts)
        store = StoreSettings(store_id=occasion.store_id, timezone=request.store_timezone)
        decision = decide(
            occasion,
            shopper_profile(request.profile),
            index,
            ledger,
            store,
            request.now_ms,
            self.recommenders.recommender_for(int(occasion.store_id)),
        )
        log.debug("decision for %s: %s", occasion.shopper_id, decision.explanation())
        ledger.record(decision)
        return DecisionResult(offer_drafts(decision, index), stored_ledger(ledger))
