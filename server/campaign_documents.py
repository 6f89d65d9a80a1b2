"""Checks on a campaign document before it is stored.

The campaign's meaning belongs to triggers (``triggers.campaigns.Campaign.from_dict`` validates it);
until that is merged the server checks only what it needs itself: a JSON object of bounded size. The
lead replaces ``validate_campaign_document`` with a call to triggers' validation.
"""

from __future__ import annotations

import json
from typing import Any

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
    return document
