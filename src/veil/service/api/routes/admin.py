"""Tokens, the policy and the service's public key.

Admins create and revoke tokens and set the policy; every token reads the
policy (the review app shows it) and the public key (to check reports).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response, status

from veil.service.api.deps import AdminDep, CallerDep, SettingsDep, StoreDep
from veil.service.custody import key_id, public_key, signed_audit
from veil.service.policy import Policy
from veil.service.schemas import TOKEN_NAME, TokenCreate
from veil.service.store.audit import SERVICE_TRAIL

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/tokens")
def list_tokens(store: StoreDep, _admin: AdminDep) -> list[dict[str, Any]]:
    """Every token: name, role, team, when made and revoked (never the secret)."""
    return store.tokens.list()


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, store: StoreDep, admin: AdminDep) -> dict[str, str]:
    """A new token; its secret is in this answer only."""
    secret = store.tokens.create(body.name, body.role, body.team)
    details = {"name": body.name, "role": body.role.value, "team": body.team}
    store.audit.append(SERVICE_TRAIL, admin.name, "token.created", details)
    return {"name": body.name, "role": body.role.value, "token": secret}


@router.delete("/tokens/{name}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    store: StoreDep, admin: AdminDep, name: str = Path(pattern=TOKEN_NAME)
) -> Response:
    """Revoked at once: its requests and the links signed for it stop working."""
    store.tokens.revoke(name)
    store.audit.append(SERVICE_TRAIL, admin.name, "token.revoked", {"name": name})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(caller: CallerDep) -> dict[str, str | None]:
    """The caller's token: name, role and team."""
    return {"name": caller.name, "role": caller.role.value, "team": caller.team}


@router.get("/policy", response_model=Policy)
def get_policy(store: StoreDep, _caller: CallerDep) -> Policy:
    """The policy in force: the weakest published blur, whether reviews must be complete."""
    return store.policy.get()


@router.put("/policy", response_model=Policy)
def put_policy(body: Policy, store: StoreDep, admin: AdminDep) -> Policy:
    policy = store.policy.put(body, admin.name)
    store.audit.append(SERVICE_TRAIL, admin.name, "policy.set", policy.model_dump(mode="json"))
    return policy


@router.get("/audit")
def service_audit(store: StoreDep, settings: SettingsDep, _admin: AdminDep) -> dict[str, Any]:
    """The service's own trail (tokens made and revoked, the policy, presets), signed and
    hash-chained like a job's (``veil verify`` checks it)."""
    return signed_audit(settings, SERVICE_TRAIL, store.audit.of_job(SERVICE_TRAIL))


@router.get("/custody/key")
def custody_key(settings: SettingsDep, _caller: CallerDep) -> dict[str, str]:
    """The public key reports and audit exports are signed with (``veil verify --key``)."""
    key = public_key(settings)
    return {"algorithm": "Ed25519", "key": key, "key_id": key_id(key)}
