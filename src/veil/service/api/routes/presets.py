"""Presets (Azure's transforms): named redaction settings, Azure preset JSON as is."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from veil.service.api.deps import StoreDep, TokenDep
from veil.service.options import resolve_options
from veil.service.schemas import PRESET_NAME, PresetBody, PresetCreate, PresetPublic
from veil.service.store import Store

router = APIRouter(prefix="/v1/presets", tags=["presets"])


def _save(store: Store, name: str, body: PresetBody, *, create_only: bool) -> PresetPublic:
    detector = body.detector.model_dump(exclude_none=True)
    encoder = body.encoder.model_dump(exclude_none=True)
    # checked now, so a bad preset is refused here and not when a job uses it
    resolve_options(
        azure=body.preset, detector=detector, encoder=encoder, source=f"preset {name!r}"
    )
    stored = store.presets.put(
        name=name,
        azure=body.preset,
        options={"detector": detector, "encoder": encoder},
        webhook_url=body.webhook_url,
        webhook_secret=body.webhook_secret,
        create_only=create_only,
    )
    return PresetPublic.from_stored(stored)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PresetPublic)
def create_preset(body: PresetCreate, store: StoreDep, _token: TokenDep) -> PresetPublic:
    """409 if the name is taken (use PUT to replace)."""
    return _save(store, body.name, body, create_only=True)


@router.get("", response_model=list[PresetPublic])
def list_presets(store: StoreDep, _token: TokenDep) -> list[PresetPublic]:
    return [PresetPublic.from_stored(p) for p in store.presets.list()]


@router.get("/{name}", response_model=PresetPublic)
def get_preset(name: str, store: StoreDep, _token: TokenDep) -> PresetPublic:
    return PresetPublic.from_stored(store.presets.get(name))


@router.put("/{name}", response_model=PresetPublic)
def put_preset(
    body: PresetBody,
    store: StoreDep,
    _token: TokenDep,
    name: str = Path(pattern=PRESET_NAME),
) -> PresetPublic:
    """Create or replace; jobs already queued keep the settings they were given."""
    return _save(store, name, body, create_only=False)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_preset(name: str, store: StoreDep, _token: TokenDep) -> Response:
    store.presets.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
