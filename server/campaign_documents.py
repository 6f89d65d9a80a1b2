"""Checks on a campaign document before it is stored: triggers' own reading of it.

``triggers.campaigns.Campaign.from_dict`` is the one definition of a campaign (docs/campaigns.md);
a document it cannot read is refused with its reason (HTTP 422, or the seeder's error) instead of
being stored and failing at every decision. The row's id and name are the campaign's, so the
document needs neither.
"""

from __future__ import annotations

import json
from typing import Any

from triggers import Campaign

# A campaign with its audience tree, schedule and content is a few KB; 256 KB is a runaway editor.
MAX_CAMPAIGN_DOCUMENT_BYTES = 256 * 1024


class CampaignDocumentError(ValueError):
    """The document cannot be stored; the message says why."""


def validate_campaign_document(document: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(document, allow_nan=False).encode("utf-8"))
    if size > MAX_CAMPAIGN_DOCUMENT_BYTES:
        raise CampaignDocumentError(
            f"campaign document is {size} bytes, over {MAX_CAMPAIGN_DOCUMENT_BYTES}"
        )
    try:
        Campaign.from_dict({"id": "new", **document})
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # CampaignError, AudienceError and ScheduleError are ValueErrors with the reason; the
        # others are shapes triggers did not foresee, still the document's fault, not a 500.
        raise CampaignDocumentError(str(error)) from None
    return document
