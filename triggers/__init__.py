"""Triggers: audiences, campaigns, caps, recommendations, decisions and attribution.

A pure core: occasions, profiles, campaigns, the cap ledger and ``now_ms`` in; decisions out.
"""

from triggers.audience import AudienceError, AudienceRule, parse_audience
from triggers.campaigns import (
    Budget,
    Campaign,
    CampaignError,
    Content,
    Context,
    Recommendation,
)
from triggers.csv_import import (
    CsvFormatError,
    ImportResult,
    RowError,
    load_customers,
    load_products,
    load_purchases,
    read_customers,
    read_products,
    read_purchases,
)
from triggers.decide import Decision, Exclusion, Offer, decide
from triggers.holdout import in_holdout
from triggers.index import CampaignIndex
from triggers.ledger import CapLedger, LedgerEntry
from triggers.measure import CampaignReport, IssuedOffer, Response, campaign_report, issued_from
from triggers.occasion import Occasion, occasion_from_zone_event
from triggers.profiles import Product, Purchase, PurchaseHistory, ShopperProfile, build_profiles
from triggers.recommend import CoPurchaseModel, RecommenderSettings
from triggers.schedule import OpeningHours, Schedule, TimeWindow
from triggers.store import FrequencyPolicy, StoreSettings

__all__ = [
    "AudienceError",
    "AudienceRule",
    "Budget",
    "Campaign",
    "CampaignError",
    "CampaignIndex",
    "CampaignReport",
    "CapLedger",
    "CoPurchaseModel",
    "Content",
    "Context",
    "CsvFormatError",
    "Decision",
    "Exclusion",
    "FrequencyPolicy",
    "ImportResult",
    "IssuedOffer",
    "LedgerEntry",
    "Occasion",
    "Offer",
    "OpeningHours",
    "Product",
    "Purchase",
    "PurchaseHistory",
    "Recommendation",
    "RecommenderSettings",
    "Response",
    "RowError",
    "Schedule",
    "ShopperProfile",
    "StoreSettings",
    "TimeWindow",
    "build_profiles",
    "campaign_report",
    "decide",
    "in_holdout",
    "issued_from",
    "load_customers",
    "load_products",
    "load_purchases",
    "occasion_from_zone_event",
    "parse_audience",
    "read_customers",
    "read_products",
    "read_purchases",
]
