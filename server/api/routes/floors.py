"""Floors of a store and their plan images (PNG or JPEG, stored in the database)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status
from sqlalchemy import select

from server.api.deps import SessionDep, StoreDep
from server.api.helpers import apply_update, reject_null
from server.clock import now_ms
from server.schemas.stores import FloorCreate, FloorPublic, FloorUpdate
from server.tables import Floor

router = APIRouter(prefix="/stores/{store_id}/floors", tags=["floors"])

# A floor plan at 5 cm a pixel for a 200 m × 100 m mall is 4000 × 2000 px: a few MB as PNG.
MAX_PLAN_IMAGE_BYTES = 20 * 1024 * 1024
# Magic numbers, so a mislabeled upload is refused instead of breaking the admin page later.
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def floor_of_store(session: SessionDep, store_id: int, floor_id: int) -> Floor:
    floor = session.get(Floor, floor_id)
    if floor is None or floor.store_id != store_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no floor {floor_id} in store {store_id}")
    return floor


@router.get("")
def list_floors(store: StoreDep, session: SessionDep) -> list[FloorPublic]:
    query = select(Floor).where(Floor.store_id == store.id).order_by(Floor.id)
    return [FloorPublic.model_validate(f) for f in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_floor(store: StoreDep, body: FloorCreate, session: SessionDep) -> FloorPublic:
    floor = Floor(store_id=store.id, created_ms=now_ms(), **body.model_dump())
    session.add(floor)
    session.commit()
    return FloorPublic.model_validate(floor)


@router.get("/{floor_id}")
def read_floor(store: StoreDep, floor_id: int, session: SessionDep) -> FloorPublic:
    return FloorPublic.model_validate(floor_of_store(session, store.id, floor_id))


@router.patch("/{floor_id}")
def update_floor(
    store: StoreDep, floor_id: int, body: FloorUpdate, session: SessionDep
) -> FloorPublic:
    floor = floor_of_store(session, store.id, floor_id)
    reject_null(apply_update(floor, body), "name", "width_m", "height_m")
    session.commit()
    return FloorPublic.model_validate(floor)


@router.delete("/{floor_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_floor(store: StoreDep, floor_id: int, session: SessionDep) -> None:
    session.delete(floor_of_store(session, store.id, floor_id))
    session.commit()


@router.put("/{floor_id}/image")
def upload_plan_image(
    store: StoreDep,
    floor_id: int,
    image: Annotated[UploadFile, File(description="the floor plan, PNG or JPEG")],
    session: SessionDep,
) -> FloorPublic:
    floor = floor_of_store(session, store.id, floor_id)
    content = image.file.read(MAX_PLAN_IMAGE_BYTES + 1)
    if len(content) > MAX_PLAN_IMAGE_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"plan image over {MAX_PLAN_IMAGE_BYTES} bytes"
        )
    kind = next((t for sig, t in IMAGE_SIGNATURES.items() if content.startswith(sig)), None)
    if kind is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "the plan must be a PNG or JPEG image"
        )
    floor.image = content
    floor.image_type = kind
    session.commit()
    return FloorPublic.model_validate(floor)


@router.get("/{floor_id}/image", response_class=Response)
def read_plan_image(store: StoreDep, floor_id: int, session: SessionDep) -> Response:
    floor = floor_of_store(session, store.id, floor_id)
    if floor.image is None or floor.image_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"floor {floor_id} has no plan image")
    return Response(content=floor.image, media_type=floor.image_type)
