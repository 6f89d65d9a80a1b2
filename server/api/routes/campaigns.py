"""Campaigns of a store: JSON documents that triggers reads, with a status and a version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from server.api.deps import RuntimeDep, SessionDep, StoreDep
from server.api.helpers import get_or_404
from server.campaign_documents import CampaignDocumentError, validate_campaign_document
from server.campaign_preview import preview_count
from server.clock import now_ms
from server.schemas.campaign_preview import CampaignPreviewPublic, CampaignPreviewRequest
from server.schemas.commerce import CampaignCreate, CampaignPublic, CampaignUpdate
from server.tables import Campaign

router = APIRouter(prefix="/stores/{store_id}/campaigns", tags=["campaigns"])


def _checked(document: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_campaign_document(document)
    except (CampaignDocumentError, ValueError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


def _campaign_of_store(session: SessionDep, store_id: int, campaign_id: int) -> Campaign:
    campaign = get_or_404(session, Campaign, campaign_id, "campaign")
    if campaign.store_id != store_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id} in this store")
    return campaign


@router.get("")
def list_campaigns(store: StoreDep, session: SessionDep) -> list[CampaignPublic]:
    query = select(Campaign).where(Campaign.store_id == store.id).order_by(Campaign.id)
    return [CampaignPublic.model_validate(c) for c in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_campaign(
    store: StoreDep, body: CampaignCreate, session: SessionDep, runtime: RuntimeDep
) -> CampaignPublic:
    now = now_ms()
    campaign = Campaign(
        store_id=store.id,
        name=body.name,
        status=body.status,
        version=1,
        document=_checked(body.document),
        created_ms=now,
        updated_ms=now,
    )
    session.add(campaign)
    session.commit()
    runtime.snapshots.invalidate(store.id)
    return CampaignPublic.model_validate(campaign)


@router.post("/preview")
def preview_campaign(
    store: StoreDep, body: CampaignPreviewRequest, session: SessionDep
) -> CampaignPreviewPublic:
    """How many customers the campaign would reach now (its audience and the consents it needs),
    and how many of them are in the store; nothing is stored."""
    now = now_ms()
    counted = preview_count(session, store.id, _checked(body.document), now)
    return CampaignPreviewPublic(
        count=counted.count,
        in_store=counted.in_store,
        customers=counted.customers,
        needs_consent=list(counted.needs_consent),
        now_ms=now,
    )


@router.get("/{campaign_id}")
def read_campaign(store: StoreDep, campaign_id: int, session: SessionDep) -> CampaignPublic:
    return CampaignPublic.model_validate(_campaign_of_store(session, store.id, campaign_id))


@router.patch("/{campaign_id}")
def update_campaign(
    store: StoreDep,
    campaign_id: int,
    body: CampaignUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
) -> CampaignPublic:
    campaign = _campaign_of_store(session, store.id, campaign_id)
    if body.name is not None:
        campaign.name = body.name
    if body.status is not None:
        campaign.status = body.status
    if body.document is not None:
        campaign.document = _checked(body.document)
    campaign.version += 1
    campaign.updated_ms = now_ms()
    session.commit()
    runtime.snapshots.invalidate(store.id)
    return CampaignPublic.model_validate(campaign)
