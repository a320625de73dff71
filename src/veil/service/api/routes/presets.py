"""Presets (Azure's transforms): named redaction settings, Azure preset JSON as is.

Everyone reads presets; only admins write them, within the policy.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from veil.service.addresses import check_webhook_url
from veil.service.api.deps import AdminDep, CallerDep, SettingsDep, StoreDep
from veil.service.options import pipeline_config, resolve_options
from veil.service.schemas import PRESET_NAME, PresetBody, PresetCreate, PresetPublic
from veil.service.secrets import Secrets
from veil.service.settings import ServiceSettings
from veil.service.store import Store
from veil.service.store.audit import SERVICE_TRAIL

router = APIRouter(prefix="/v1/presets", tags=["presets"])


def _save(
    store: Store,
    settings: ServiceSettings,
    name: str,
    body: PresetBody,
    *,
    create_only: bool,
    who: str,
) -> PresetPublic:
    detector = body.detector.model_dump(exclude_none=True)
    encoder = body.encoder.model_dump(exclude_none=True)
    # checked now, so a bad preset is refused here and not when a job uses it
    options = resolve_options(
        azure=body.preset, detector=detector, encoder=encoder, source=f"preset {name!r}"
    )
    policy = store.policy.get()
    if options.mode != "analyze":
        policy.check_published_blur(pipeline_config(options).redaction.blur)
    if body.webhook_url:
        check_webhook_url(body.webhook_url, policy.webhook_allow)
    stored = store.presets.put(
        name=name,
        azure=body.preset,
        options={"detector": detector, "encoder": encoder},
        webhook_url=body.webhook_url,
        webhook_secret=Secrets(settings).seal(body.webhook_secret) if body.webhook_secret else None,
        create_only=create_only,
    )
    public = PresetPublic.from_stored(stored)
    store.audit.append(SERVICE_TRAIL, who, "preset.set", public.model_dump(mode="json"))
    return public


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PresetPublic)
def create_preset(
    body: PresetCreate, store: StoreDep, settings: SettingsDep, admin: AdminDep
) -> PresetPublic:
    """409 if the name is taken (use PUT to replace)."""
    return _save(store, settings, body.name, body, create_only=True, who=admin.name)


@router.get("", response_model=list[PresetPublic])
def list_presets(store: StoreDep, _caller: CallerDep) -> list[PresetPublic]:
    return [PresetPublic.from_stored(p) for p in store.presets.list()]


@router.get("/{name}", response_model=PresetPublic)
def get_preset(name: str, store: StoreDep, _caller: CallerDep) -> PresetPublic:
    return PresetPublic.from_stored(store.presets.get(name))


@router.put("/{name}", response_model=PresetPublic)
def put_preset(
    body: PresetBody,
    store: StoreDep,
    settings: SettingsDep,
    admin: AdminDep,
    name: str = Path(pattern=PRESET_NAME),
) -> PresetPublic:
    """Create or replace; jobs already queued keep the settings they were given."""
    return _save(store, settings, name, body, create_only=False, who=admin.name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_preset(name: str, store: StoreDep, admin: AdminDep) -> Response:
    store.presets.delete(name)
    store.audit.append(SERVICE_TRAIL, admin.name, "preset.deleted", {"name": name})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
