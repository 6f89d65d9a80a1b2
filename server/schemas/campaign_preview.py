"""The "who would get this now" preview of a campaign being edited."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from server.schemas.common import ApiModel, Name


class CampaignPreviewRequest(ApiModel):
    name: Name
    # The same campaign document the create route takes.
    document: dict[str, Any] = Field(default_factory=dict)


class CampaignPreviewPublic(ApiModel):
    count: int  # customers the audience selects now, with the consents the campaign needs
    in_store: int  # of those, how many are in the store now
    customers: int  # customers on file
    needs_consent: list[str]
    now_ms: int  # the server time the audience was evaluated at
